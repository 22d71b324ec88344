/**
 * @module optim/one-cycle-lr — the 1cycle policy, as torch.optim.lr_scheduler.OneCycleLR
 * (1.13): the lr rises from `maxLr / divFactor` to `maxLr`, then anneals to
 * `initialLr / finalDivFactor` (three phases with `threePhase`), by cosine or linear
 * annealing, with momentum (or Adam's beta1) cycled inversely. Step it after every batch.
 */
import { ValueError } from '../errors.ts';
import type { Optimizer } from './optimizer.ts';
import { checkOptionKeys, LRScheduler, type SchedulerOptions, type SchedulerStateDict } from './lr-scheduler.ts';

/** Options of OneCycleLR (torch's defaults). */
export interface OneCycleLROptions extends SchedulerOptions {
  /** The peak lr, one for all groups or one per group (required). */
  readonly maxLr: number | readonly number[];
  /** Total steps of the cycle; or give `epochs` and `stepsPerEpoch`. */
  readonly totalSteps?: number;
  readonly epochs?: number;
  readonly stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  readonly pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  readonly annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (or beta1) inversely to the lr (default true). */
  readonly cycleMomentum?: boolean;
  /** Lowest momentum (default 0.85), one or one per group. */
  readonly baseMomentum?: number | readonly number[];
  /** Highest momentum (default 0.95), one or one per group. */
  readonly maxMomentum?: number | readonly number[];
  /** initialLr = maxLr / divFactor (default 25). */
  readonly divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  readonly finalDivFactor?: number;
  /** Anneal back to initialLr, then to minLr, in three phases (default false). */
  readonly threePhase?: boolean;
}

/** One phase of the cycle; lr and momentum keys name param-group fields. */
interface Phase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

const KEYS = [
  'maxLr',
  'totalSteps',
  'epochs',
  'stepsPerEpoch',
  'pctStart',
  'annealStrategy',
  'cycleMomentum',
  'baseMomentum',
  'maxMomentum',
  'divFactor',
  'finalDivFactor',
  'threePhase',
  'lastEpoch',
] as const;

const toTorch = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const fromTorch = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function positiveInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ValueError(`OneCycleLR: invalid ${what}; expected a positive integer, got ${String(v)}`);
  }
  return v;
}

/**
 * OneCycleLR, as torch's. Sets `initialLr`, `maxLr`, `minLr` (and `maxMomentum`,
 * `baseMomentum`) on every group.
 * @example const sched = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 1000 }); // sched.step() after each batch
 */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  useBeta1: boolean;
  phases: Phase[];

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    checkOptionKeys('OneCycleLR', options, KEYS);
    super('OneCycleLR', optimizer, options.lastEpoch);
    if (options.totalSteps !== undefined) this.totalSteps = positiveInt('totalSteps', options.totalSteps);
    else if (options.epochs !== undefined || options.stepsPerEpoch !== undefined) {
      this.totalSteps = positiveInt('epochs', options.epochs) * positiveInt('stepsPerEpoch', options.stepsPerEpoch);
    } else {
      throw new ValueError(
        'OneCycleLR: the cycle length is not given; expected totalSteps, or epochs and stepsPerEpoch, got neither',
      );
    }
    const pct = options.pctStart ?? 0.3;
    if (typeof pct !== 'number' || !(pct >= 0 && pct <= 1)) {
      throw new ValueError(`OneCycleLR: invalid pctStart; expected a number between 0 and 1, got ${String(pct)}`);
    }
    const anneal = options.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear') {
      throw new ValueError(
        `OneCycleLR: unknown annealStrategy; expected 'cos' or 'linear', got ${JSON.stringify(anneal)}`,
      );
    }
    this.annealStrategy = anneal;
    const n = this.totalSteps;
    this.phases =
      options.threePhase === true
        ? [
            {
              endStep: pct * n - 1,
              startLr: 'initialLr',
              endLr: 'maxLr',
              startMomentum: 'maxMomentum',
              endMomentum: 'baseMomentum',
            },
            {
              endStep: 2 * pct * n - 2,
              startLr: 'maxLr',
              endLr: 'initialLr',
              startMomentum: 'baseMomentum',
              endMomentum: 'maxMomentum',
            },
            {
              endStep: n - 1,
              startLr: 'initialLr',
              endLr: 'minLr',
              startMomentum: 'maxMomentum',
              endMomentum: 'maxMomentum',
            },
          ]
        : [
            {
              endStep: pct * n - 1,
              startLr: 'initialLr',
              endLr: 'maxLr',
              startMomentum: 'maxMomentum',
              endMomentum: 'baseMomentum',
            },
            {
              endStep: n - 1,
              startLr: 'maxLr',
              endLr: 'minLr',
              startMomentum: 'baseMomentum',
              endMomentum: 'maxMomentum',
            },
          ];
    const groups = this.groups();
    const perGroup = (name: string, v: unknown): number[] => {
      const list = Array.isArray(v) ? (v as unknown[]) : groups.map(() => v);
      if (list.length !== groups.length) {
        throw new ValueError(
          `OneCycleLR: expected ${groups.length} values for ${name}, one per param group; expected ${groups.length}, got ${list.length}`,
        );
      }
      return list.map((x) => {
        if (typeof x !== 'number' || !(x >= 0))
          throw new ValueError(`OneCycleLR: invalid ${name}; expected a number >= 0, got ${String(x)}`);
        return x;
      });
    };
    const divFactor = options.divFactor ?? 25;
    const finalDivFactor = options.finalDivFactor ?? 1e4;
    const maxLrs = perGroup('maxLr', options.maxLr);
    const fresh = (options.lastEpoch ?? -1) === -1;
    if (fresh) {
      groups.forEach((g, i) => {
        g.initialLr = maxLrs[i]! / divFactor;
        g['maxLr'] = maxLrs[i]!;
        g['minLr'] = g.initialLr / finalDivFactor;
      });
      this.baseLrs = groups.map((g) => g.initialLr!);
    }
    this.cycleMomentum = options.cycleMomentum ?? true;
    this.useBeta1 = 'betas' in optimizer.defaults;
    if (this.cycleMomentum) {
      if (!('momentum' in optimizer.defaults) && !this.useBeta1) {
        throw new ValueError(
          `OneCycleLR: optimizer must support momentum with cycleMomentum enabled; expected momentum or betas in ${optimizer.name}'s options, got neither`,
        );
      }
      const maxM = perGroup('maxMomentum', options.maxMomentum ?? 0.95);
      const baseM = perGroup('baseMomentum', options.baseMomentum ?? 0.85);
      if (fresh) {
        groups.forEach((g, i) => {
          this.setMomentum(g, maxM[i]!);
          g['maxMomentum'] = maxM[i]!;
          g['baseMomentum'] = baseM[i]!;
        });
      }
    }
    this.initialStep();
  }

  private setMomentum(g: Record<string, unknown>, m: number): void {
    if (this.useBeta1) {
      const betas = g['betas'] as readonly number[];
      g['betas'] = [m, ...betas.slice(1)];
    } else {
      g['momentum'] = m;
    }
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2.0) * cosOut;
  }

  protected override getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new ValueError(
        `OneCycleLR: tried to step ${stepNum + 1} times; expected at most totalSteps = ${this.totalSteps} steps, got ${stepNum + 1}`,
      );
    }
    return this.groups().map((g) => {
      const group = g as Record<string, unknown>;
      let startStep = 0;
      let lr = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i]!;
        if (stepNum <= phase.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          lr = this.anneal(group[phase.startLr] as number, group[phase.endLr] as number, pct);
          if (this.cycleMomentum) {
            this.setMomentum(
              group,
              this.anneal(group[phase.startMomentum] as number, group[phase.endMomentum] as number, pct),
            );
          }
          break;
        }
        startStep = phase.endStep;
      }
      return lr;
    });
  }

  protected override hyperState(): SchedulerStateDict {
    return {
      total_steps: this.totalSteps,
      _schedule_phases: this.phases.map((p) => ({
        end_step: p.endStep,
        start_lr: toTorch(p.startLr),
        end_lr: toTorch(p.endLr),
        start_momentum: toTorch(p.startMomentum),
        end_momentum: toTorch(p.endMomentum),
      })),
      anneal_strategy: this.annealStrategy,
      cycle_momentum: this.cycleMomentum,
      use_beta1: this.useBeta1,
    };
  }

  protected override loadHyperState(sd: Readonly<SchedulerStateDict>): void {
    const phases = sd['_schedule_phases'];
    if (!Array.isArray(phases) || typeof sd['total_steps'] !== 'number') {
      throw new ValueError(
        `OneCycleLR.loadStateDict: missing '_schedule_phases' or 'total_steps'; expected torch's keys, got ${Object.keys(sd).join(', ')}`,
      );
    }
    this.totalSteps = sd['total_steps'];
    this.phases = (phases as Record<string, unknown>[]).map((p) => ({
      endStep: Number(p['end_step']),
      startLr: fromTorch(String(p['start_lr'])),
      endLr: fromTorch(String(p['end_lr'])),
      startMomentum: fromTorch(String(p['start_momentum'])),
      endMomentum: fromTorch(String(p['end_momentum'])),
    }));
    // torch stores the bound anneal function; we store its name.
    if (sd['anneal_strategy'] === 'cos' || sd['anneal_strategy'] === 'linear')
      this.annealStrategy = sd['anneal_strategy'];
    if (typeof sd['cycle_momentum'] === 'boolean') this.cycleMomentum = sd['cycle_momentum'];
    if (typeof sd['use_beta1'] === 'boolean') this.useBeta1 = sd['use_beta1'];
  }
}
