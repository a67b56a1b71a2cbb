/**
 * Target reconciliation: the one place a new target list (static, SIGHUP reload, Docker) is
 * swapped in, and where route changes turn into "answering" / "not answering" log lines.
 */
import { TargetSet } from '../core/target-set';
import type { Logger } from '../io/log';
import type { IgnoreReason } from '../model/reasons';
import type { RouteInfo, Target } from '../model/target';

/** What reconciliation needs from the daemon. */
export interface ReconcileHooks {
  /** A target appeared in the set (announce it). */
  added(target: Target): void;
  /** A target left the set (cancel its announcements). */
  removed(target: Target): void;
  /** The set was swapped: follow with memberships, filter, watched routes, host routes. */
  swapped(targets: readonly Target[]): void;
  /** Why the current route forbids answering for `target`, or undefined when it allows it. */
  routeReason(target: Target): IgnoreReason | undefined;
  /** The kernel's route for `target` (for the log line). */
  routeOf(target: Target): RouteInfo;
  /** A review ended: {@link TargetReconciler.answerable} is current. */
  reviewed(): void;
}

/** Holds the target set in force and reports changes in answerability once each. */
export class TargetReconciler {
  private set: TargetSet;
  private readonly answerableByText = new Map<string, boolean>();

  constructor(
    initial: readonly Target[],
    private readonly hooks: ReconcileHooks,
    private readonly log: Logger,
  ) {
    this.set = new TargetSet(initial);
  }

  /** The immutable set the hot path reads; replaced whole, never mutated. */
  get current(): TargetSet {
    return this.set;
  }

  /** Swap in `targets` atomically: the next frame is decided against the new set. */
  replace(targets: readonly Target[]): void {
    const before = new Map(this.set.targets.map((t) => [t.text, t]));
    this.set = new TargetSet(targets);
    const after = new Set(this.set.targets.map((t) => t.text));
    for (const target of this.set.targets) {
      if (before.has(target.text)) continue;
      this.log.info({ target: target.text, origin: target.origin }, 'target added');
      this.hooks.added(target);
    }
    for (const [text, target] of before) {
      if (after.has(text)) continue;
      this.hooks.removed(target);
      this.answerableByText.delete(text);
      this.log.info({ target: text, origin: target.origin }, 'target removed');
    }
    this.hooks.swapped(this.set.targets);
  }

  /** The targets the last review found answerable (the route allows it). */
  answerable(): Target[] {
    return this.set.targets.filter((t) => this.answerableByText.get(t.text) === true);
  }

  /** Log each target whose answerability changed since the last review (routes, via, reload). */
  review(): void {
    for (const target of this.set.targets) {
      const reason = this.hooks.routeReason(target);
      const ok = reason === undefined;
      if (this.answerableByText.get(target.text) === ok) continue;
      this.answerableByText.set(target.text, ok);
      const route = this.hooks.routeOf(target);
      const fields = { target: target.text, route: route.kind === 'interface' ? route.ifname : route.kind };
      if (ok) this.log.info(fields, 'route gained, answering');
      else this.log.warn({ ...fields, reason }, 'route lost, not answering');
    }
    this.hooks.reviewed();
  }
}
