// The git adapter on real repositories: hunks, renames, deletions, commits, revisions, defaults, limits.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GitInputError } from '../../src/git/exec.js';
import { BlobReader } from '../../src/git/blobs.js';
import { gitSnapshot, quotePath, underPrefix } from '../../src/git/snapshot.js';
import { changedLines } from '../../src/engine/parse.js';
import { TestRepo, cleanTemps, goFile, tempDir } from './repo.js';

afterAll(cleanTemps);

const lines = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`).join('\n') + '\n';

describe('gitSnapshot over a range', () => {
  const repo = TestRepo.init();
  const base = repo.commit('base', {
    'keep.go': goFile('func a() {}', 'func b() {}', 'func c() {}'),
    'old/name.go': lines(30),
    'gone.go': lines(3, 'gone'),
    'bin.dat': '\0\x01\x02binary',
  });
  repo.git('checkout', '-q', '-b', 'claude/fix-race');
  const first = repo.commit('first\n\nCo-Authored-By: Claude <noreply@anthropic.com>', {
    'keep.go': goFile('func a() {}', 'func b() { wait() }', 'func c() {}', 'func d() {}'),
  });
  const renamed = lines(30).replace('line 15\n', 'line fifteen\n');
  const second = repo.commit(
    'second',
    { 'old/name.go': null, 'new/name.go': renamed, 'gone.go': null, 'bin.dat': '\0\x03changed', 'added.go': goFile('func e() {}') },
    { name: 'Agent', email: 'agent@example.com' },
  );

  it('lists each file with its status, previous path and changed lines', async () => {
    const s = await gitSnapshot({ repo: repo.dir, base: 'main' });
    try {
      const byPath = Object.fromEntries(s.files.map((f) => [f.path, f]));
      expect(Object.keys(byPath).sort()).toEqual(['added.go', 'bin.dat', 'gone.go', 'keep.go', 'new/name.go']);
      expect(byPath['keep.go']).toMatchObject({ status: 'modified' });
      expect([...(changedLines(byPath['keep.go']) as Set<number>)]).toEqual([4, 6]);
      expect(byPath['new/name.go']).toMatchObject({ status: 'renamed', previousPath: 'old/name.go' });
      expect([...(changedLines(byPath['new/name.go']) as Set<number>)]).toEqual([15]);
      expect(byPath['gone.go']).toMatchObject({ status: 'removed' });
      expect(byPath['gone.go']!.hunks[0]!.removed).toEqual([1, 2, 3]);
      expect(byPath['added.go']).toMatchObject({ status: 'added' });
      expect(byPath['bin.dat']).toMatchObject({ status: 'modified', hunks: [] });
      expect(byPath['bin.dat']!.wholeFile).toBeUndefined();
      expect(s.baseSha).toBe(base);
      expect(s.headSha).toBe(second);
      expect(s.notes).toEqual([]);
    } finally {
      s.close();
    }
  });

  it('reads files at base, head and each commit, and lists trees', async () => {
    const s = await gitSnapshot({ repo: repo.dir, base: base });
    try {
      expect(await s.read('gone.go', 'base')).toContain('gone 3');
      expect(await s.read('gone.go', 'head')).toBeUndefined();
      expect(await s.read('new/name.go', 'base')).toBeUndefined();
      expect(await s.read('keep.go', { commit: first })).toContain('wait()');
      expect(await s.read('old/name.go', { commit: first })).toBe(lines(30));
      expect(await s.read('new', 'head')).toBeUndefined(); // a directory is not a file
      expect(await s.read('keep.go', { commit: 'HEAD --output=x' })).toBeUndefined(); // only object names reach git
      const reads = await Promise.all(Array.from({ length: 200 }, (_, i) => s.read(i % 2 ? 'keep.go' : 'added.go', 'head')));
      expect(reads.filter((t) => t?.includes('func e()'))).toHaveLength(100);
      expect(await s.list('', 'head')).toEqual(['added.go', 'bin.dat', 'keep.go', 'new/name.go']);
      expect(await s.list('old', 'base')).toEqual(['old/name.go']);
      expect(await s.list('new/', 'head')).toEqual(['new/name.go']);
    } finally {
      s.close();
    }
  });

  it('gives the commits oldest first with authors, committers and messages', async () => {
    const s = await gitSnapshot({ repo: repo.dir, base: 'main' });
    s.close();
    expect(s.commits.map((c) => c.sha)).toEqual([first, second]);
    expect(s.commits[0]!.message).toBe('first\n\nCo-Authored-By: Claude <noreply@anthropic.com>');
    expect(s.commits[1]!.author).toEqual({ name: 'Agent', email: 'agent@example.com' });
    expect(s.commits[1]!.committer).toEqual({ name: 'Dev', email: 'dev@example.com' });
  });

  it('takes the branch name of the head ref, local or remote-tracking, and none for a bare sha', async () => {
    expect((await gitSnapshot({ repo: repo.dir, base: 'main' })).headRef).toBe('claude/fix-race');
    expect((await gitSnapshot({ repo: repo.dir, base: 'main', head: second })).headRef).toBeUndefined();
    const clone = TestRepo.init();
    clone.git('remote', 'add', 'origin', repo.dir);
    clone.git('fetch', '-q', 'origin');
    const s = await gitSnapshot({ repo: clone.dir, base: 'origin/main', head: 'origin/claude/fix-race' });
    expect(s.headRef).toBe('claude/fix-race');
    expect(s.repo).toMatch(/\//);
  });

  it('defaults the base to the merge-base with main', async () => {
    const s = await gitSnapshot({ repo: repo.dir });
    expect(s.baseSha).toBe(base);
    expect(s.range.base).toBe('main');
  });

  it('reviews the whole tree with all: every file added, base the empty tree, no commits', async () => {
    const s = await gitSnapshot({ repo: repo.dir, all: true });
    try {
      expect(s.files.map((f) => [f.path, f.status, f.wholeFile])).toEqual([
        ['added.go', 'added', true],
        ['bin.dat', 'added', true],
        ['keep.go', 'added', true],
        ['new/name.go', 'added', true],
      ]);
      expect(s.commits).toEqual([]);
      expect(s.notes).toEqual([expect.stringMatching(/^whole-tree scan \(--all\): no commits/)]);
      expect(await s.read('keep.go', 'base')).toBeUndefined();
      expect(await s.list('', 'base')).toEqual([]);
      expect(await s.read('keep.go', 'head')).toContain('wait()');
    } finally {
      s.close();
    }
  });
});

describe('reads of files the PR does not change', () => {
  it('give base and head the one text, read once; a changed file still reads as it was at base', async () => {
    const repo = TestRepo.init();
    repo.commit('base', { 'same.go': goFile('func same() {}'), 'edited.go': goFile('func before() {}') });
    repo.git('checkout', '-q', '-b', 'pr');
    repo.commit('edit', { 'edited.go': goFile('func after() {}') });
    const s = await gitSnapshot({ repo: repo.dir, base: 'main' });
    try {
      const [base, head] = [await s.read('same.go', 'base'), await s.read('same.go', 'head')];
      expect(base).toContain('func same()');
      expect(base).toBe(head);
      expect(await s.read('edited.go', 'base')).toContain('func before()');
      expect(await s.read('edited.go', 'head')).toContain('func after()');
      expect(await s.read('absent.go', 'base')).toBeUndefined();
    } finally {
      s.close();
    }
  });
});

describe('default base from origin/HEAD', () => {
  it('uses the merge-base with the remote default branch, not a local main', async () => {
    const upstream = TestRepo.init('trunk');
    const root = upstream.commit('root', { 'a.go': goFile('func a() {}') });
    const bare = tempDir();
    upstream.git('clone', '-q', '--bare', upstream.dir, bare);
    const work = new TestRepo(tempDir());
    work.git('clone', '-q', bare, '.');
    work.git('config', 'commit.gpgsign', 'false');
    work.git('checkout', '-q', '-b', 'feature');
    work.commit('feature', { 'b.go': goFile('func b() {}') });
    // a local main that does not match upstream must not win over origin/HEAD
    work.git('branch', 'main', 'HEAD');
    const s = await gitSnapshot({ repo: work.dir });
    expect(s.range.base).toBe('origin/HEAD');
    expect(s.baseSha).toBe(root);
    expect(s.files.map((f) => f.path)).toEqual(['b.go']);
  });

  it('takes an explicit base that moved on since the branch left it at the merge-base, as GitHub does', async () => {
    const repo = TestRepo.init();
    const root = repo.commit('root', { 'a.go': goFile('func a() {}') });
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit('feature', { 'b.go': goFile('func b() {}') });
    repo.git('checkout', '-q', 'main');
    repo.commit('main moves on', { 'c.go': goFile('func c() {}') });
    const s = await gitSnapshot({ repo: repo.dir, base: 'main', head: 'feature' });
    expect(s.baseSha).toBe(root);
    expect(s.files.map((f) => f.path)).toEqual(['b.go']);
    expect(s.commits.map((c) => c.message)).toEqual(['feature']);
  });

  it('falls back to master', async () => {
    const repo = TestRepo.init('master');
    const root = repo.commit('root', { 'a.go': goFile() });
    repo.git('checkout', '-q', '-b', 'x');
    repo.commit('x', { 'a.go': goFile('func x() {}') });
    expect((await gitSnapshot({ repo: repo.dir })).baseSha).toBe(root);
  });
});

describe('bad input', () => {
  const repo = TestRepo.init('dev');
  repo.commit('root', { 'a.go': goFile() });

  it.each([
    [{ repo: tempDir() }, /not a git repository/],
    [{ repo: '/nonexistent/causal-review' }, /no such directory/],
    [{ repo: repo.dir, base: 'nosuch' }, /^--base nosuch: unknown revision in /],
    [{ repo: repo.dir, base: 'HEAD', head: 'nosuch' }, /^--head nosuch: unknown revision in /],
    [{ repo: repo.dir, base: '--output=/tmp/x' }, /^--base --output=\/tmp\/x: not a revision/],
    [{ repo: repo.dir }, /no --base given, and .* has no origin\/HEAD, main or master/],
  ])('%o -> %s', async (options, message) => {
    const error = await gitSnapshot(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitInputError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('an empty range', () => {
  it('says that there was nothing to review, rather than passing in silence', async () => {
    const repo = TestRepo.init();
    repo.commit('root', { 'a.go': goFile() });
    const s = await gitSnapshot({ repo: repo.dir });
    s.close();
    expect(s.files).toEqual([]);
    expect(s.notes).toEqual([expect.stringMatching(/^nothing to review: HEAD has no changes against main \(\w{7}\); only committed changes are reviewed$/)]);
  });
});

describe('a shallow clone', () => {
  it('says the base is not fetched, not that the branches have no common ancestor', async () => {
    const origin = TestRepo.init();
    origin.commit('root', { 'a.go': goFile() });
    origin.commit('second', { 'b.go': goFile() });
    origin.git('checkout', '-q', '-b', 'pr');
    origin.commit('third', { 'c.go': goFile() });
    const clone = new TestRepo(join(tempDir(), 'clone'));
    origin.git('clone', '-q', '--depth', '1', '--branch', 'pr', `file://${origin.dir}`, clone.dir);
    clone.git('fetch', '-q', '--depth', '1', 'origin', 'main:refs/remotes/origin/main');
    const error = await gitSnapshot({ repo: clone.dir, base: 'origin/main' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitInputError);
    expect((error as Error).message).toMatch(/^--head and origin\/main have no common ancestor in the fetched history: .* is a shallow clone; fetch the history \(actions\/checkout with fetch-depth: 0/);
  });
});

describe('limits and odd paths', () => {
  it('matches patches to paths git quotes, and to paths with spaces', async () => {
    const repo = TestRepo.init();
    repo.commit('root', { 'a.txt': 'a\n' });
    repo.commit('odd', { 'we"ird.go': goFile('func w() {}'), 'with space/f g.go': goFile('func s() {}'), 'tab\there.go': goFile() });
    const s = await gitSnapshot({ repo: repo.dir, base: 'HEAD~1' });
    s.close();
    expect(s.files.map((f) => [f.path, f.wholeFile, f.hunks.length])).toEqual([
      ['tab\there.go', undefined, 1],
      ['we"ird.go', undefined, 1],
      ['with space/f g.go', undefined, 1],
    ]);
    expect(quotePath('a/tab\there')).toBe('"a/tab\\there"');
  });

  it('says which changed files it cannot read: a line break in the name, a name that is not UTF-8', async () => {
    const repo = TestRepo.init();
    repo.commit('root', { 'a.txt': 'a\n' });
    repo.commit('odd', { 'new\nline.sh': 'sleep 30\n', 'ok.sh': 'sleep 30\n' });
    // a Latin-1 name, as a file system without an encoding keeps it
    writeFileSync(Buffer.from(join(repo.dir, 'caf\xe9.sh'), 'latin1'), 'sleep 30\n');
    repo.git('add', '-A');
    repo.git('commit', '-q', '-m', 'latin-1');
    for (const all of [false, true]) {
      const s = await gitSnapshot({ repo: repo.dir, ...(all ? { all } : { base: 'HEAD~2' }) });
      // as the notes say: not read, whether by path or (a whole-tree scan) by object id
      expect(await s.read('new\nline.sh', 'head'), String(all)).toBeUndefined();
      expect(await s.read('ok.sh', 'head'), String(all)).toBe('sleep 30\n');
      s.close();
      const notes = s.notes.filter((n) => n.includes('cannot be read'));
      expect(notes, String(all)).toEqual([
        expect.stringMatching(/^caf.*\.sh: its name has a line break or is not UTF-8/),
        'new\\nline.sh: its name has a line break or is not UTF-8, so it cannot be read; not analysed',
      ]);
    }
  });

  it('treats a file whose patch is over the limit as wholly changed, with a note', async () => {
    const repo = TestRepo.init();
    repo.commit('root', { 'big.go': lines(2000) });
    repo.commit('big change', { 'big.go': lines(2000, 'changed') });
    const s = await gitSnapshot({ repo: repo.dir, base: 'HEAD~1', limits: { maxPatchBytesPerFile: 1000 } });
    s.close();
    expect(s.files[0]).toMatchObject({ path: 'big.go', wholeFile: true });
    expect(s.notes.join('\n')).toMatch(/big\.go: the diff is over 1000 bytes/);
  });

  it('does not read a file over the read limit, and says so once', async () => {
    const repo = TestRepo.init();
    repo.commit('root', { 'small.go': goFile(), 'big.go': lines(5000) });
    const s = await gitSnapshot({ repo: repo.dir, all: true, limits: { maxFileBytes: 10_000 } });
    try {
      expect(await s.read('big.go', 'head')).toBeUndefined();
      expect(await s.read('big.go', 'head')).toBeUndefined();
      expect(await s.read('small.go', 'head')).toBe(goFile());
      expect(s.notes.filter((n) => n.startsWith('big.go'))).toEqual([expect.stringMatching(/^big\.go: \d+ bytes, over the 10000-byte read limit/)]);
    } finally {
      s.close();
    }
  });
});

describe('BlobReader', () => {
  it('answers interleaved reads of large, missing and small objects in order', async () => {
    const repo = TestRepo.init();
    const big = lines(100_000);
    const sha = repo.commit('root', { 'big.txt': big, 'small.txt': 'small\n' });
    const reader = new BlobReader(repo.dir, 200_000);
    const readerAll = new BlobReader(repo.dir, 10_000_000);
    try {
      const results = await Promise.all([
        reader.read(`${sha}:big.txt`),
        reader.read(`${sha}:nope.txt`),
        reader.read(`${sha}:small.txt`),
        reader.read(`${sha}:`),
        reader.read(`${sha}:small.txt`),
        readerAll.read(`${sha}:big.txt`),
      ]);
      expect(results.map((r) => r.kind)).toEqual(['too-large', 'missing', 'blob', 'missing', 'blob', 'blob']);
      expect(results[2]).toMatchObject({ kind: 'blob' });
      expect((results[4] as { data: Buffer }).data.toString()).toBe('small\n');
      expect((results[5] as { data: Buffer }).data.toString()).toBe(big);
    } finally {
      reader.close();
      readerAll.close();
    }
  });
});

describe('underPrefix: the paths under a directory of a sorted listing', () => {
  const sorted = ['a-b/c.go', 'a.go', 'a/x.go', 'a/y/z.go', 'a0/b.go', 'b/a/x.go', 'b/c.go', 'ü/é.go'];
  it('finds every path under the directory and nothing beside it', () => {
    expect(sorted).toEqual([...sorted].sort());
    expect(underPrefix(sorted, 'a/')).toEqual(['a/x.go', 'a/y/z.go']);
    expect(underPrefix(sorted, 'a/y/')).toEqual(['a/y/z.go']);
    expect(underPrefix(sorted, 'b/')).toEqual(['b/a/x.go', 'b/c.go']);
    expect(underPrefix(sorted, 'ü/')).toEqual(['ü/é.go']);
    expect(underPrefix(sorted, '')).toEqual(sorted);
  });
  it('is empty for a directory that is not there, before, between or after the paths', () => {
    for (const prefix of ['0/', 'a/w/', 'az/', 'zz/']) expect(underPrefix(sorted, prefix)).toEqual([]);
    expect(underPrefix([], 'a/')).toEqual([]);
  });
});
