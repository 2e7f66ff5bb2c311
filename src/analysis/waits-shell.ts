// Shell waits for sleep-fix: `sleep N` in scripts, Makefile recipes, workflow steps and the shell commands of
// Kubernetes containers, the loop each sits in, the kubectl command around it, and a mechanical `kubectl wait`
// rewrite where one can be derived.

import { isMap, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import { formatDuration, shellSleepMs, type LoopKind } from './waits.js';
import { MAX_SITES_PER_FILE, quote, type WaitSite } from './waits-sites.js';
import { shellKind, splitShell } from '../lang/shell.js';
import type { ParsedFile, ShellCommand, Suggestion } from '../engine/types.js';

interface ShellLoop {
  header: ShellCommand;
  body: ShellCommand[];
}

const KUBECTL_WAITERS = ['wait', 'rollout'];

/** `kubectl`, a path to it, or the Makefile/script variable kubebuilder projects call it through. */
const isKubectl = (word: string | undefined) =>
  word !== undefined && (word === 'kubectl' || word.endsWith('/kubectl') || word === '$(KUBECTL)' || word === '${KUBECTL}' || word === '$KUBECTL');

export function shellSites(file: ParsedFile): WaitSite[] {
  return sitesOfCommands(file, file.shell(), new Map());
}

/** Which container a manifest's script belongs to: an init container's poll for its dependency is the wait itself. */
type ContainerRole = 'init' | 'app';

function sitesOfCommands(file: ParsedFile, commands: ShellCommand[], roles: Map<string, ContainerRole>): WaitSite[] {
  const sites: WaitSite[] = [];
  const stacks = new Map<string, ShellLoop[]>();
  // the loop each sleep sits in is only known once its `done` is seen: judge sleeps when their loop closes
  const pending: { command: ShellCommand; loops: ShellLoop[] }[] = [];
  let previous: ShellCommand | undefined;
  for (const command of commands) {
    const stack = stacks.get(command.script) ?? [];
    stacks.set(command.script, stack);
    for (const loop of stack) loop.body.push(command);
    const first = command.words[0];
    const opener =
      command.text.startsWith('while ') || command.text.startsWith('until ') || first === 'for' || command.text.startsWith('for ') || opensLoopOnItsLine(file, command, previous);
    previous = command;
    if (opener) stack.push({ header: command, body: [] });
    if (first === 'done') stack.pop();
    if ((first === 'sleep' || first === '/bin/sleep') && sites.length + pending.length < MAX_SITES_PER_FILE) pending.push({ command, loops: [...stack] });
  }
  let timeouts: [number, number][] | undefined;
  let lastOfScript: Map<string, ShellCommand> | undefined;
  for (const { command, loops } of pending) {
    const ms = shellSleepMs(command.words.slice(1));
    const loop = loops[loops.length - 1];
    const kind = loop ? shellLoopKind(loop) : undefined;
    const site: WaitSite = {
      flavour: 'shell',
      path: file.path,
      line: command.line,
      endLine: command.endLine,
      scope: command.script,
      callee: 'sleep',
      text: command.text.replace(/^(do|then|else)\s+/, '').slice(0, 300),
      ms,
      situation: 'generic',
      poll: kind === 'poll',
    };
    if (command.words[1] === 'infinity') site.benign = 'holds a container or job open; not a wait for something';
    else if (ms === 0) site.benign = 'a yield, not a wait';
    else if (isKill(nextInScript(commands, command))) site.benign = 'a watchdog: it kills its target after a delay (a hand-made timeout)';
    else if (kind === 'poll' && watchdogBefore(commands, loop!.header)) site.benign = 'a poll bounded by a watchdog that kills it';
    else if (kind === 'bounded') site.benign = 'a poll with a deadline or attempt cap';
    else if (kind === 'periodic') site.benign = 'a periodic loop';
    else if (kind === 'poll' && (timeouts ??= workflowTimeouts(file)).some(([from, to]) => command.line >= from && command.line <= to)) {
      site.benign = "a poll bounded by the workflow's timeout-minutes";
    }
    const role = roles.get(command.script);
    if (role === 'init' && site.poll && !site.benign) site.benign = "an init container polling its dependency: the pod's wait itself";
    // `command: ["sleep", "3600"]` keeps a debug or test container alive: nothing runs after it, so it orders nothing
    // (an init container's sleep does delay the app containers, and stays a finding)
    if (role === 'app' && !loop && !site.benign && (lastOfScript ??= lastCommands(commands)).get(command.script) === command) {
      site.benign = 'holds an app container open; nothing runs after it';
    }
    // a poll loop's advice is about the loop, not about the command after it
    if (role && !site.benign && !site.poll) site.situation = 'container';
    else if (!site.benign && !site.poll) shellSituation(site, command, commands, file);
    sites.push(site);
  }
  return sites;
}

/**
 * `until (kubectl get $res || :) | grep NotFound; do`: a condition that opens with a subshell leaves the keyword a
 * command of its own, which the splitter drops, so the loop is only seen on the source line. The first command on a
 * line that starts with `while`/`until` opens the loop.
 */
function opensLoopOnItsLine(file: ParsedFile, command: ShellCommand, previous: ShellCommand | undefined): boolean {
  if (previous && previous.script === command.script && previous.endLine >= command.line) return false;
  const source = (file.lines[command.line - 1] ?? '').trimStart();
  return /^(while|until)[\s(!]/.test(source);
}

const isKill = (command: ShellCommand | undefined) => command !== undefined && (command.words[0] === 'kill' || command.words[0] === 'pkill');

/** The command after `command` in its own script. */
function nextInScript(commands: ShellCommand[], command: ShellCommand): ShellCommand | undefined {
  const at = commands.indexOf(command);
  for (let i = at + 1; i < commands.length && i <= at + 20; i++) if (commands[i]!.script === command.script) return commands[i];
  return undefined;
}

/**
 * `( sleep 300; kill -s SIGUSR1 $$ ) &` then `trap '...; break' SIGUSR1` and the retry loop: a watchdog set up just before
 * a loop ends it, as `timeout` would. Looked for among the few commands before the loop.
 */
function watchdogBefore(commands: ShellCommand[], header: ShellCommand): boolean {
  const at = commands.indexOf(header);
  for (let i = at - 1; i > 0 && i >= at - 12; i--) {
    const kill = commands[i]!;
    const sleep = commands[i - 1]!;
    if (kill.script === header.script && isKill(kill) && sleep.script === header.script && (sleep.words[0] === 'sleep' || sleep.words[0] === '/bin/sleep')) return true;
  }
  return false;
}

/** The last command of each script. */
function lastCommands(commands: ShellCommand[]): Map<string, ShellCommand> {
  const last = new Map<string, ShellCommand>();
  for (const command of commands) last.set(command.script, command);
  return last;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);
const MAX_YAML_NODES = 20_000;

/**
 * The shell of Kubernetes containers in a manifest: `command: ["sh", "-c", "sleep 30 && exec app"]`, `args`,
 * and a bare `command: ["sleep", "20"]`. Lifecycle hooks (`preStop: sleep 5`, a drain delay) are not containers' commands.
 */
export function manifestSites(file: ParsedFile): WaitSite[] {
  const text = file.text;
  if (!text.includes('ontainers') || !text.includes('sleep')) return [];
  let parsed;
  try {
    parsed = file.yaml();
  } catch {
    return [];
  }
  const { docs, lineCounter } = parsed;
  const commands: ShellCommand[] = [];
  const roles = new Map<string, ContainerRole>();
  let budget = MAX_YAML_NODES;
  const lineAt = (node: YamlNode) => {
    const start = node.range![0];
    // a block scalar's content starts on the line after its `|` or `>`
    return lineCounter.linePos(start).line + (text[start] === '|' || text[start] === '>' ? 1 : 0);
  };
  const container = (item: unknown, role: ContainerRole, owner: string) => {
    if (!isMap(item)) return;
    const argv = [item.get('command', true), item.get('args', true)].flatMap((list) => (isSeq(list) ? list.items : [])).filter(isScalar);
    if (argv.length === 0 || !argv.every((a) => a.range)) return;
    const label = `${owner} ${role === 'init' ? 'initContainer' : 'container'} ${String(item.get('name') ?? '?')}`;
    roles.set(label, role);
    const words = argv.map((a) => String(a.value));
    const shell = words[0]!.split('/').pop()!;
    const dashC = words.indexOf('-c');
    if (SHELLS.has(shell) && dashC !== -1 && argv[dashC + 1]) {
      const script = argv[dashC + 1]!;
      for (const command of splitShell(String(script.value).slice(0, 100_000), lineAt(script), label)) commands.push({ ...command, index: commands.length });
    } else if (shell === 'sleep') {
      const line = lineAt(argv[0]!);
      commands.push({ words, text: words.join(' '), line, endLine: lineAt(argv[argv.length - 1]!), script: label, index: commands.length });
    }
  };
  const visit = (node: unknown, owner: string, depth: number) => {
    if (--budget <= 0 || depth > 20) return;
    if (isSeq(node)) for (const item of node.items) visit(item, owner, depth + 1);
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if ((key === 'containers' || key === 'initContainers') && isSeq(pair.value)) {
        for (const item of pair.value.items) container(item, key === 'initContainers' ? 'init' : 'app', owner);
      } else if (key !== 'lifecycle') {
        visit(pair.value, owner, depth + 1);
      }
    }
  };
  for (const doc of docs) {
    const root = doc.contents;
    const kind = isMap(root) ? String(root.get('kind') ?? 'object') : 'object';
    const metadata = isMap(root) ? root.get('metadata') : undefined;
    const name = isMap(metadata) ? String(metadata.get('name') ?? '?') : '?';
    visit(root, `${kind}/${name}`, 0);
  }
  return sitesOfCommands(file, commands, roles);
}

/** Line ranges of workflow `run:` steps under a `timeout-minutes` (of the step or of its job): GitHub ends a poll there. */
function workflowTimeouts(file: ParsedFile): [number, number][] {
  if (shellKind(file.path) !== 'workflow') return [];
  const ranges: [number, number][] = [];
  const { docs, lineCounter } = file.yaml();
  for (const doc of docs) {
    const jobs = isMap(doc.contents) ? doc.contents.get('jobs') : undefined;
    if (!isMap(jobs)) continue;
    for (const job of jobs.items) {
      if (!isMap(job.value)) continue;
      const jobTimeout = job.value.has('timeout-minutes');
      const steps = job.value.get('steps');
      if (!isSeq(steps)) continue;
      for (const step of steps.items) {
        if (!isMap(step) || !(jobTimeout || step.has('timeout-minutes'))) continue;
        const run = step.get('run', true);
        if (isScalar(run) && run.range) ranges.push([lineCounter.linePos(run.range[0]).line, lineCounter.linePos(run.range[1]).line]);
      }
    }
  }
  return ranges;
}

function shellLoopKind(loop: ShellLoop): LoopKind {
  const all = [loop.header, ...loop.body].map((c) => c.text.slice(0, 500));
  // a `for` loop runs a finite list; counters, $SECONDS, timeout and deadlines cap a while/until
  if (loop.header.words[0] === 'for' || loop.header.text.startsWith('for ')) return 'bounded';
  const capped = all.some((t) => ['-lt', '-le', '-gt', '-ge', 'SECONDS', 'timeout', 'deadline', 'attempt', 'retries', 'tries', '$((', '((', 'let '].some((w) => t.includes(w)));
  if (capped) return 'bounded';
  const endless = loop.header.words.length === 1 && (loop.header.words[0] === 'true' || loop.header.words[0] === ':');
  if (!endless) return 'poll';
  return loop.body.some((c) => c.words[0] === 'break' || c.words[0] === 'exit' || c.words[0] === 'return') ? 'poll' : 'periodic';
}

function shellSituation(site: WaitSite, command: ShellCommand, commands: ShellCommand[], file: ParsedFile): void {
  const at = commands.indexOf(command);
  const sameJob = (c: ShellCommand) => c.script === command.script || jobOf(c.script) === jobOf(command.script);
  let next: ShellCommand | undefined;
  for (let i = at + 1; i < commands.length && i <= at + 4; i++) {
    const c = commands[i]!;
    if (!sameJob(c)) break;
    if (c.words[0] === 'echo' || c.words[0] === 'printf' || c.words[0] === 'done') continue;
    next = c;
    break;
  }
  const previous = at > 0 && sameJob(commands[at - 1]!) ? commands[at - 1] : undefined;
  if (next && isKubectl(next.words[0]) && !KUBECTL_WAITERS.includes(next.words[1] ?? '')) {
    site.situation = 'kubectl';
    site.detail = `before ${quote(next.text)}`;
    site.suggestion = kubectlSuggestion(command, next, site.ms, file);
  } else if (previous && (isKubectl(previous.words[0]) || previous.words[0] === 'helm' || previous.words[0] === 'kind')) {
    site.situation = 'kubectl';
    site.detail = `after ${quote(previous.text)}`;
  }
}

const jobOf = (script: string) => (script.startsWith('job ') ? script.slice(0, script.indexOf(' step ')) : script);

/**
 * `sleep 30` then `kubectl get pods -l app=x [-n ns]` -> `kubectl wait --for=condition=Ready pod -l app=x [-n ns] --timeout=30s`;
 * `kubectl get deployment x` -> `kubectl rollout status deployment/x --timeout=30s`. Only when both commands stand alone on
 * adjacent lines and the get has no flag beyond a selector and a namespace: otherwise its output may matter.
 */
function kubectlSuggestion(sleep: ShellCommand, get: ShellCommand, ms: number | undefined, file: ParsedFile): Suggestion | undefined {
  if (ms === undefined || ms < 1000 || get.line !== sleep.endLine + 1 || get.endLine !== get.line) return undefined;
  const sleepLine = file.lines[sleep.line - 1] ?? '';
  const getLine = file.lines[get.line - 1] ?? '';
  // each command alone on its line (a trailing comment is allowed: it goes with the sleep it explains)
  const alone = (line: string, text: string) => {
    const trimmed = line.trim();
    if (!trimmed.startsWith(text)) return false;
    const rest = trimmed.slice(text.length).trim();
    return rest === '' || rest.startsWith('#');
  };
  if (!alone(sleepLine, sleep.text) || !alone(getLine, get.text)) return undefined;
  const words = get.words;
  // in a Makefile a `$` is make's: only the kubectl variable itself is carried over as written
  const isMake = file.path.split('/').pop()!.toLowerCase().includes('makefile') || file.path.endsWith('.mk');
  if (isMake && words.slice(1).some((w) => w.includes('$'))) return undefined;
  if (words[1] !== 'get') return undefined;
  let resource: string | undefined;
  let name: string | undefined;
  const flags: string[] = [];
  for (let i = 2; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-l' || w === '--selector' || w === '-n' || w === '--namespace') {
      const value = words[i + 1];
      if (!value) return undefined;
      flags.push(w, value);
      i++;
    } else if (w.startsWith('--selector=') || w.startsWith('--namespace=') || w.startsWith('-l=') || w.startsWith('-n=')) {
      flags.push(w);
    } else if (w.startsWith('-')) {
      return undefined;
    } else if (!resource) {
      resource = w;
    } else if (!name) {
      name = w;
    } else return undefined;
  }
  if (!resource) return undefined;
  if (resource.includes('/')) [resource, name] = [resource.slice(0, resource.indexOf('/')), resource.slice(resource.indexOf('/') + 1)];
  const indent = sleepLine.slice(0, sleepLine.length - sleepLine.trimStart().length);
  const timeout = `--timeout=${formatDuration(Math.ceil(ms / 1000) * 1000)}`;
  const quoted = (w: string) => (/^[\w./:=,@%+-]+$/.test(w) || w.startsWith('$') ? w : `'${w.replaceAll("'", "'\\''")}'`);
  const rest = flags.map(quoted).join(' ');
  let replacement: string | undefined;
  if (['pod', 'pods', 'po'].includes(resource)) {
    const target = name ? `pod/${name}` : 'pod';
    if (!name && !flags.some((f) => f === '-l' || f === '--selector' || f.startsWith('--selector=') || f.startsWith('-l='))) return undefined;
    replacement = `${words[0]} wait --for=condition=Ready ${target}${rest ? ` ${rest}` : ''} ${timeout}`;
  } else if (['deployment', 'deployments', 'deploy', 'statefulset', 'statefulsets', 'sts', 'daemonset', 'daemonsets', 'ds'].includes(resource) && name) {
    const kind = resource.startsWith('deploy') ? 'deployment' : resource.startsWith('s') ? 'statefulset' : 'daemonset';
    replacement = `${words[0]} rollout status ${kind}/${name}${rest ? ` ${rest}` : ''} ${timeout}`;
  }
  if (!replacement) return undefined;
  return { startLine: sleep.line, endLine: get.line, replacement: `${indent}${replacement}` };
}
