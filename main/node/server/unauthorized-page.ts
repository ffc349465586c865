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
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}code{background:#eee;padding:0 .2em}</style>
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
