// event-ordering over its fixture table: polling loops in the reconcile path, owned children
// nobody watches, unordered TS watch/informer handlers and their unconditioned status writes.

import { describe, expect, it } from 'vitest';
import { eventOrdering } from '../../checks/event-ordering.js';
import { describeProblems, loadCases, runCase, withEdits } from '../support/fixtures.js';

const cases = loadCases('event-ordering');

describe('event-ordering fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const result = await runCase(c, [eventOrdering]);
    expect(describeProblems(result)).toBe('');
  });

  it('has flagged cases and silent near-misses', () => {
    const flagged = cases.filter((c) => c.wants.length > 0);
    const silent = cases.filter((c) => c.wants.length === 0);
    expect(flagged.length).toBeGreaterThanOrEqual(10);
    expect(silent.length).toBeGreaterThanOrEqual(10);
  });
});

/** A near-miss with the one thing that keeps it silent taken out: it must then be reported. */
async function withoutTheGuard(name: string, path: string, from: string | string[], to: string | string[]) {
  const froms = typeof from === 'string' ? [from] : from;
  const edits = froms.map((f, i) => [f, typeof to === 'string' ? to : to[i]!] as const);
  const result = await runCase(withEdits(cases.find((x) => x.name === name)!, path, edits), [eventOrdering]);
  return result.findings.map((f) => f.message);
}

describe('event-ordering near-misses are silent for the reason they claim', () => {
  const controller = 'internal/controller/database_controller.go';
  it.each([
    ['ok-go-owned-child-watched', 'internal/controller/setup.go', '\t\tOwns(&corev1.PersistentVolumeClaim{}).\n', '', /PersistentVolumeClaim.*Add `Owns\(&corev1.PersistentVolumeClaim\{\}\)`/],
    ['ok-go-child-of-the-for-kind', controller, 'For(&dbv1.Database{}).', 'For(&appsv1.StatefulSet{}).', /owner reference on a Database \(example.com\/db-operator\/api\/v1\)/],
    ['ok-go-watches-configmap', controller, 'Watches(&corev1.ConfigMap{}', 'Watches(&corev1.Secret{}', /v1 ConfigMap/],
    ['ok-go-watches-source-kind', controller, 'source.Kind(mgr.GetCache(), &corev1.Service{}', 'source.Kind(mgr.GetCache(), &corev1.Endpoints{}', /v1 Service/],
    ['ok-go-setup-owns-variable', controller, 'Owns(r.ChildType).', 'Owns(&corev1.Secret{}).', /v1 Service/],
    ['ok-go-retry-on-conflict', controller, ['"k8s.io/client-go/util/retry"', 'retry.RetryOnConflict(retry.DefaultRetry, func() error {'], ['"k8s.io/apimachinery/pkg/util/wait"', 'wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(ctx context.Context) (bool, error) {'], /polls the API/],
    ['ok-go-loop-without-wait', controller, ['"context"', 'for _, pod := range pods.Items {', '\t\tif fresh.Status.Phase == corev1.PodRunning {'], ['"context"\n\t"time"', 'for len(pods.Items) > 0 {\n\t\tpod := pods.Items[0]', '\t\ttime.Sleep(time.Second)\n\t\tif fresh.Status.Phase == corev1.PodRunning {'], /reads the API/],
    ['ok-go-range-loop-throttle', controller, 'for _, name := range replicaNames(&db) {', 'for name := db.Name + "-0"; ; {', /reads the API/],
    ['ok-ts-handler-per-key-chain', 'src/controller.ts', 'chains.set(key, next.catch((err) => console.error(key, err)));', 'void next.catch((err) => console.error(key, err));', /runs async work directly/],
    ['ok-ts-handler-mutex', 'src/controller.ts', 'await mutex.runExclusive(() => reconcile(schedule));', 'await reconcile(schedule);', /runs async work directly/],
    ['ok-ts-handler-calls-imported-sync', 'src/main.ts', '  enqueue(schedule);', '  void reconcile(schedule as never);', /runs async work directly/],
    ['ok-ts-handler-enqueues-key', 'src/controller.ts', "informer.on('add', enqueue);", "informer.on('add', reconcile);", /runs async work directly/],
    ['ok-go-owner-ref-through-interface-helper', 'internal/controller/runnerpool_controller.go', 'obj client.Object) error {', 'obj *corev1.ConfigMap) error {', /owner reference on a v1 ConfigMap/],
    ['ok-go-poll-in-helper-named-reconcile', 'internal/webhook/ca.go', 'namespace string) error {', 'namespace string) (ctrl.Result, error) {', /polls the API/],
    ['ts-handler-async-status-writes-preconditioned', 'src/controller.ts', "        { op: 'test', path: '/metadata/resourceVersion', value: schedule.metadata!.resourceVersion },\n", '', /patchNamespacedCustomObjectStatus.*without a resourceVersion precondition/],
  ])('%s', async (name, path, from, to, message) => {
    const messages = await withoutTheGuard(name, path, from, to);
    expect(messages.some((m) => message.test(m)), messages.join('\n')).toBe(true);
  });
});

describe('event-ordering docs', () => {
  it('says what it flags, what keeps it silent, and shows Go both ways', () => {
    expect(eventOrdering.title).not.toMatch(/not built/i);
    expect(eventOrdering.docs.summary.length).toBeGreaterThan(200);
    expect(eventOrdering.docs.details).toMatch(/cannot decide and stays silent/);
    expect(eventOrdering.docs.bad.code).toContain('time.Sleep');
    expect(eventOrdering.docs.good.code).toContain('RequeueAfter');
  });
});

describe('event-ordering on hostile input', () => {
  it('does not fail on broken Go and TypeScript', async () => {
    const head = {
      'internal/controller/broken.go': 'package controller\nfunc (r *R) Reconcile( {\n\tfor { r.Get(ctx, \n\tcontrollerutil.SetControllerReference(db, , r.Scheme)\n',
      'internal/controller/setup.go': 'package controller\nfunc (r *R) SetupWithManager(mgr ctrl.Manager) error { return ctrl.NewControllerManagedBy(mgr).For(&v1.X{}).Owns(\n',
      'src/broken.ts': 'informer.on("update", async (o) => { await api.patchNamespacedCustomObjectStatus({ body: { status: ',
    };
    const result = await runCase({ name: 'hostile', dir: '', pr: { base: {}, head, commits: ['c'] }, config: cases[0]!.config, wants: [] }, [eventOrdering]);
    expect(result.findings.filter((f) => f.checkId === 'internal-error')).toEqual([]);
  });
});

describe('event-ordering when it cannot decide', () => {
  it('says in the verdict notes that an owned child was not checked for lack of a setup', async () => {
    const c = cases.find((x) => x.name === 'ok-go-no-setup-in-package')!;
    const result = await runCase(c, [eventOrdering]);
    expect(result.findings).toEqual([]);
    expect(result.verdict.notes.some((n) => /v1 Service.*no SetupWithManager in internal\/controller/.test(n)), result.verdict.notes.join('\n')).toBe(true);
  });
});
