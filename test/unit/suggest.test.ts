// Edit distance and the did-you-mean pick.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, didYouMean, editDistance } from '../../main/common/suggest';

test('editDistance: insertions, deletions, substitutions, transpositions', () => {
  assert.equal(editDistance('watch', 'watch'), 0);
  assert.equal(editDistance('wach', 'watch'), 1);
  assert.equal(editDistance('sucess', 'success'), 1);
  assert.equal(editDistance('polcy', 'policy'), 1);
  assert.equal(editDistance('sreve', 'serve'), 1, 'a swap is one edit');
  assert.equal(editDistance('', 'abc'), 3);
});

test('closest: near words suggested, far ones and exact ones not', () => {
  const words = ['groups', 'watch', 'serve', 'start'];
  assert.equal(closest('wach', words), 'watch');
  assert.equal(closest('Serve', words), undefined, 'same word, other case: not a typo to fix');
  assert.equal(closest('frobnicate', words), undefined);
  assert.equal(closest('x', words), undefined);
  assert.equal(didYouMean('grops', words), " (did you mean 'groups'?)");
  assert.equal(didYouMean('zzz', words), '');
});
