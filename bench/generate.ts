// A deterministic operator-style Go tree for the benchmarks: kubebuilder layout, reconcilers with
// status updates, helpers, goroutines, and a few sleeps; the same seed always writes the same files.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** mulberry32: a tiny seeded PRNG, so the tree is the same on every machine. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = ['Database', 'Cache', 'Queue', 'Gateway', 'Backup', 'Tenant', 'Bucket', 'Certificate', 'Pipeline', 'Cluster'];

function helper(name: string, kind: string, rnd: () => number): string[] {
  const lines = [
    `func (r *${kind}Reconciler) ${name}(ctx context.Context, obj *v1.${kind}) error {`,
    `\tlogger := log.FromContext(ctx).WithValues("step", "${name}")`,
    `\tlist := &appsv1.StatefulSetList{}`,
    `\tif err := r.List(ctx, list, client.InNamespace(obj.Namespace), client.MatchingLabels{"app": obj.Name}); err != nil {`,
    `\t\treturn fmt.Errorf("listing statefulsets for %s: %w", obj.Name, err)`,
    `\t}`,
    `\tfor i := range list.Items {`,
    `\t\tsts := &list.Items[i]`,
    `\t\tif sts.Status.ReadyReplicas < *sts.Spec.Replicas {`,
    `\t\t\tlogger.Info("not ready", "name", sts.Name, "ready", sts.Status.ReadyReplicas)`,
    `\t\t\tcontinue`,
    `\t\t}`,
    `\t\tmeta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "AllReplicasReady"})`,
    `\t}`,
  ];
  if (rnd() < 0.25) {
    lines.push(`\tvar wg sync.WaitGroup`, `\tfor _, item := range list.Items {`, `\t\twg.Add(1)`, `\t\tgo func(name string) {`, `\t\t\tdefer wg.Done()`, `\t\t\t_ = r.touch(ctx, name)`, `\t\t}(item.Name)`, `\t}`, `\twg.Wait()`);
  }
  lines.push(`\treturn nil`, `}`, '');
  return lines;
}

/** One controller file of roughly 150 to 300 lines; about one in twenty has a sleep in the reconcile path. */
export function controllerFile(index: number, rnd: () => number, withSleep = rnd() < 0.05): string {
  const kind = `${KINDS[index % KINDS.length]}${index}`;
  const lines = [
    `package controller`,
    '',
    'import (',
    '\t"context"',
    '\t"fmt"',
    '\t"sync"',
    '\t"time"',
    '',
    '\tappsv1 "k8s.io/api/apps/v1"',
    '\tapierrors "k8s.io/apimachinery/pkg/api/errors"',
    '\t"k8s.io/apimachinery/pkg/api/meta"',
    '\tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"',
    '\tctrl "sigs.k8s.io/controller-runtime"',
    '\t"sigs.k8s.io/controller-runtime/pkg/client"',
    '\t"sigs.k8s.io/controller-runtime/pkg/log"',
    '',
    '\tv1 "example.com/fleet-operator/api/v1"',
    ')',
    '',
    `// ${kind}Reconciler reconciles a ${kind} object.`,
    `type ${kind}Reconciler struct {`,
    '\tclient.Client',
    '\tmu   sync.Mutex',
    '\tseen map[string]time.Time',
    '}',
    '',
    `// +kubebuilder:rbac:groups=fleet.example.com,resources=${kind.toLowerCase()}s,verbs=get;list;watch;update;patch`,
    '',
    `func (r *${kind}Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {`,
    `\tobj := &v1.${kind}{}`,
    '\tif err := r.Get(ctx, req.NamespacedName, obj); err != nil {',
    '\t\treturn ctrl.Result{}, client.IgnoreNotFound(err)',
    '\t}',
  ];
  const steps = 2 + Math.floor(rnd() * 4);
  for (let s = 0; s < steps; s++) lines.push(`\tif err := r.step${s}(ctx, obj); err != nil {`, '\t\treturn ctrl.Result{}, err', '\t}');
  if (withSleep) lines.push('\t// give the API server time to settle', `\ttime.Sleep(${1 + Math.floor(rnd() * 10)} * time.Second)`);
  lines.push(
    '\tr.mu.Lock()',
    '\tr.seen[req.String()] = time.Now()',
    '\tr.mu.Unlock()',
    '\tobj.Status.ObservedGeneration = obj.Generation',
    '\tif err := r.Status().Update(ctx, obj); err != nil {',
    '\t\tif apierrors.IsConflict(err) {',
    '\t\t\treturn ctrl.Result{Requeue: true}, nil',
    '\t\t}',
    '\t\treturn ctrl.Result{}, err',
    '\t}',
    `\treturn ctrl.Result{RequeueAfter: ${30 + Math.floor(rnd() * 300)} * time.Second}, nil`,
    '}',
    '',
  );
  for (let s = 0; s < steps; s++) lines.push(...helper(`step${s}`, kind, rnd));
  lines.push(
    `func (r *${kind}Reconciler) touch(ctx context.Context, name string) error {`,
    '\treturn nil',
    '}',
    '',
    `func (r *${kind}Reconciler) SetupWithManager(mgr ctrl.Manager) error {`,
    `\treturn ctrl.NewControllerManagedBy(mgr).For(&v1.${kind}{}).Owns(&appsv1.StatefulSet{}).Complete(r)`,
    '}',
    '',
  );
  return lines.join('\n');
}

export interface GeneratedTree {
  dir: string;
  files: number;
  bytes: number;
}

function gitIn(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

function write(dir: string, path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
}

/** `files` controller files in a committed git repository on branch main. */
export function generateTree(dir: string, files: number, seed = 42): GeneratedTree {
  const rnd = random(seed);
  let bytes = 0;
  gitIn(dir, 'init', '-q', '-b', 'main');
  for (let i = 0; i < files; i++) {
    const text = controllerFile(i, rnd);
    bytes += Buffer.byteLength(text);
    write(dir, `internal/controller/group${i % 40}/${KINDS[i % KINDS.length]!.toLowerCase()}${i}_controller.go`, text);
  }
  write(dir, 'go.mod', 'module example.com/fleet-operator\n\ngo 1.22\n');
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-q', '-m', 'fleet operator');
  // packed, as a clone is: 3,000 loose objects take git three times as long to read
  gitIn(dir, 'gc', '-q');
  return { dir, files: files + 1, bytes };
}

/** A PR branch `pr` on top of a generated tree that edits `count` files (one in five gains a sleep). */
export function generatePullRequest(dir: string, count: number): { base: string; head: string } {
  gitIn(dir, 'checkout', '-q', '-b', 'pr');
  for (let i = 0; i < count; i++) {
    const path = `internal/controller/group${i % 40}/${KINDS[i % KINDS.length]!.toLowerCase()}${i}_controller.go`;
    const added = ['\tlog.FromContext(ctx).Info("updating status", "generation", obj.Generation)'];
    if (i % 5 === 0) added.push('\t// the status update races with the StatefulSet controller', '\ttime.Sleep(5 * time.Second)');
    const text = readFileSync(join(dir, path), 'utf8').replace('\tobj.Status.ObservedGeneration = obj.Generation', [...added, '\tobj.Status.ObservedGeneration = obj.Generation'].join('\n'));
    write(dir, path, text);
  }
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-q', '-m', 'controllers: wait for the API server\n\nCo-Authored-By: Claude <noreply@anthropic.com>');
  gitIn(dir, 'gc', '-q');
  return { base: 'main', head: 'pr' };
}
