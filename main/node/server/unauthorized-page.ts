// The body of a 401 in browser mode: someone opened the dashboard without
// its token (or with an old one). It says what to do instead of a bare
// "Unauthorized". Static HTML, no script (the CSP applies), and it never
// contains the token: whoever sees this page does not have it.

export type TokenProblem = 'missing' | 'wrong';

export function unauthorizedPage(problem: TokenProblem): string {
  const what =
    problem === 'missing'
      ? 'This address has no access token.'
      : 'The access token in this address (or its cookie) is wrong: it may come from an earlier run of the server.';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>iommuscope: access token ${problem}</title>
<meta name="color-scheme" content="dark">
<style>html{background:#14171d;color:#d4d9e2}body{font:15px/1.5 system-ui,'DejaVu Sans',sans-serif;max-width:40em;margin:3em auto;padding:1em 1.5em;background:#1b1f27;border:1px solid #2c3240;border-radius:4px}h1{font-size:18px;color:#e06c6c}code{font-family:ui-monospace,'DejaVu Sans Mono',monospace;background:#222733;padding:0 .3em;border-radius:3px}</style>
</head>
<body>
<h1>Access token ${problem}</h1>
<p>${what}</p>
<p>The iommuscope dashboard opens only with the token of the running server. Open the exact URL
that <code>iommuscope serve</code> printed on the first line of its output
(<code>http://…/?token=…</code>). Each start of <code>iommuscope serve</code> makes a new token.</p>
</body>
</html>
`;
}
