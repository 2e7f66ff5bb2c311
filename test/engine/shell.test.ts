// The shell front-end: commands, lines, quotes, comments, continuations, here-documents.

import { describe, expect, it } from 'vitest';
import { splitMakefile, splitShell, splitWorkflow } from '../../src/lang/shell.js';

const words = (script: string) => splitShell(script).map((c) => [c.line, ...c.words]);

describe('splitShell', () => {
  it('splits lists and pipelines into simple commands with their lines', () => {
    expect(words('kubectl apply -f x.yaml && sleep 10\nkubectl get pods | grep Running; echo done')).toEqual([
      [1, 'kubectl', 'apply', '-f', 'x.yaml'],
      [1, 'sleep', '10'],
      [2, 'kubectl', 'get', 'pods'],
      [2, 'grep', 'Running'],
      [2, 'echo', 'done'],
    ]);
  });

  it('drops comments but not a # inside a word or quotes', () => {
    expect(words('echo a#b "c # d" # sleep 5\n# sleep 9')).toEqual([[1, 'echo', 'a#b', 'c # d']]);
  });

  it('keeps quoted separators inside words', () => {
    expect(words(`echo 'a; sleep 5' "b && c"`)).toEqual([[1, 'echo', 'a; sleep 5', 'b && c']]);
  });

  it('keeps each command\'s text as written: quotes and escapes included, the words without them', () => {
    const script = `kubectl get pods -l "app=db" -n 'prod' && echo "a \\"b\\"" c\\ d`;
    const [get, echo] = splitShell(script);
    expect(get).toMatchObject({ text: `kubectl get pods -l "app=db" -n 'prod'`, words: ['kubectl', 'get', 'pods', '-l', 'app=db', '-n', 'prod'] });
    expect(echo).toMatchObject({ text: 'echo "a \\"b\\"" c\\ d', words: ['echo', 'a "b"', 'c d'] });
  });

  it('joins continuation lines and reports the first line', () => {
    const [cmd] = splitShell('kubectl wait \\\n  --for=condition=Ready pod/x \\\n  --timeout=60s\n');
    expect(cmd).toMatchObject({ line: 1, endLine: 3, words: ['kubectl', 'wait', '--for=condition=Ready', 'pod/x', '--timeout=60s'] });
  });

  it('skips here-document bodies', () => {
    expect(words('cat <<EOF > x\nsleep 100\nEOF\nsleep 1\ncat <<-"END"\n\tsleep 2\n\tEND\n')).toEqual([
      [1, 'cat', '>', 'x'],
      [4, 'sleep', '1'],
      [5, 'cat'],
    ]);
  });

  it('strips compound keywords and assignments so the command comes first', () => {
    expect(words('if kubectl get ns x; then sleep 3; fi\nFOO=1 BAR=2 sleep 4\nwhile true; do sleep 1; done')).toEqual([
      [1, 'kubectl', 'get', 'ns', 'x'],
      [1, 'sleep', '3'],
      [1, 'fi'],
      [2, 'sleep', '4'],
      [3, 'true'],
      [3, 'sleep', '1'],
      [3, 'done'],
    ]);
  });

  it('keeps command substitutions as one word', () => {
    expect(words('echo $(kubectl get pod -o name; sleep 2) done')).toEqual([[1, 'echo', '$(kubectl get pod -o name; sleep 2)', 'done']]);
  });

  it('is linear on hostile input', () => {
    const hostile = '"'.repeat(50_000) + "'".repeat(50_000) + '$('.repeat(20_000) + '\\'.repeat(10_001);
    expect(() => splitShell(hostile)).not.toThrow();
  });
});

describe('splitMakefile', () => {
  it('takes recipe lines only, with make prefixes and $$ removed', () => {
    const make = 'IMG ?= x\n\ndeploy: manifests\n\t@kubectl apply -k config/default\n\t-sleep 30\n\techo $$HOME \\\n\t  done\n';
    expect(splitMakefile(make).map((c) => [c.line, c.script, ...c.words])).toEqual([
      [4, 'deploy', 'kubectl', 'apply', '-k', 'config/default'],
      [5, 'deploy', 'sleep', '30'],
      [6, 'deploy', 'echo', '$HOME', 'done'],
    ]);
  });
});

describe('splitWorkflow', () => {
  it('maps run: steps to file lines, block and inline', () => {
    const wf = [
      'name: e2e',
      'on: pull_request',
      'jobs:',
      '  e2e:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - name: deploy',
      '        run: |',
      '          kubectl apply -k config/default',
      '',
      '          sleep 60',
      '      - run: sleep 5',
      '',
    ].join('\n');
    expect(splitWorkflow(wf).map((c) => [c.line, c.script, ...c.words])).toEqual([
      [10, 'job e2e step "deploy"', 'kubectl', 'apply', '-k', 'config/default'],
      [12, 'job e2e step "deploy"', 'sleep', '60'],
      [13, 'job e2e step 3', 'sleep', '5'],
    ]);
  });

  it('reads composite action steps and survives broken YAML', () => {
    expect(splitWorkflow('runs:\n  using: composite\n  steps:\n    - run: sleep 9\n      shell: bash\n').map((c) => c.words)).toEqual([['sleep', '9']]);
    expect(splitWorkflow('jobs: [\n  {')).toEqual([]);
  });
});
