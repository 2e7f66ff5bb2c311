// Suppression directives in each language's comment syntax.

import { describe, expect, it } from 'vitest';
import { covers, findSuppressions } from '../../src/engine/suppress.js';

describe('findSuppressions', () => {
  it.each([
    ['// causal-review:ignore sleep-fix -- hardware settle time', 'go'],
    ['# causal-review:ignore sleep-fix -- hardware settle time', 'shell'],
    ['/* causal-review:ignore sleep-fix -- hardware settle time */', 'c-style block'],
    ['x := 1 // causal-review:ignore sleep-fix -- hardware settle time', 'trailing'],
    ['<!-- causal-review:ignore sleep-fix -- hardware settle time -->', 'html'],
  ])('%s (%s)', (line) => {
    const [s] = findSuppressions('f', `a\n${line}\n`);
    expect(s).toMatchObject({ line: 2, checkIds: ['sleep-fix'], reason: 'hardware settle time' });
    expect(covers(s!, 'sleep-fix', 2) && covers(s!, 'sleep-fix', 3)).toBe(true);
    expect(covers(s!, 'sleep-fix', 4) || covers(s!, 'event-ordering', 3)).toBe(false);
  });

  it('reads several ids and a missing reason', () => {
    expect(findSuppressions('f', '# causal-review:ignore sleep-fix, event-ordering')[0]).toMatchObject({
      checkIds: ['sleep-fix', 'event-ordering'],
      reason: '',
    });
  });

  it.each([
    ["const input = '// causal-review:ignore sleep-fix -- in a string';"],
    ['t := "# causal-review:ignore sleep-fix -- in a string"'],
    ['// Directives look like `causal-review:ignore <check-id> -- <reason>` in a comment.'],
  ])('ignores a quoted example: %s', (line) => {
    expect(findSuppressions('f', line)).toEqual([]);
  });

  it('reads a directive after a line of code with balanced quotes', () => {
    expect(findSuppressions('f', 'msg := "waiting" // causal-review:ignore sleep-fix -- settle time of the device')[0]?.reason).toBe('settle time of the device');
  });

  it.each([
    ["# the webhook's cert rotates: causal-review:ignore sleep-fix -- the API server caches the old one for 10s", 'an apostrophe in the comment'],
    ['url := "http://x//y" // causal-review:ignore sleep-fix -- device settle time', 'a comment marker inside a string before the comment'],
    ['// Causal-Review:Ignore sleep-fix -- device settle time', 'another case'],
    ["echo 'a # b' # causal-review:ignore sleep-fix -- device settle time", 'a quoted # in the shell code'],
  ])('reads a directive with %s', (line) => {
    expect(findSuppressions('f', line)).toMatchObject([{ line: 1, checkIds: ['sleep-fix'] }]);
  });

  it('ignores the directive outside a comment', () => {
    expect(findSuppressions('f', 'const s = "causal-review:ignore sleep-fix -- x"')).toEqual([]);
  });
});
