// Text from sysfs, the kernel or a device reaches a terminal only through
// here. A control character in it would be obeyed by the terminal: ESC ] 0;
// retitles the window, ESC [ 2 J clears it, a C1 CSI (U+009B) does the same
// on terminals that honour 8-bit controls, and bidi overrides reorder what is
// shown. Each such character is written as a visible escape (\x1b, \u202e);
// newline and tab, which our own layout uses, stay as they are.

// C0 except \t and \n, DEL, C1, and the Unicode bidi embedding/override/isolate controls.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16)}`;
  });
}

/** Same, for one line: a newline inside a value would forge an extra output line. */
export function escapeLineForTerminal(text: string): string {
  return escapeForTerminal(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}
