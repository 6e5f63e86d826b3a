import { z } from 'zod';
import { compileTagPattern } from './glob.ts';
import { REPORT_EVERYTHING, type ReportRule } from './rules.ts';

export const MAX_HEARTBEAT_S = 86_400;
const MS_PER_S = 1000;
const MAX_PERCENT = 100;

const mode = z
  .enum(['none', 'change', 'deadband'])
  .describe('none: every reading; change: only a changed value; deadband: a numeric change larger than the band (other types: change).');
const deadbandAbs = z.number().min(0).describe('Absolute deadband in engineering units; 0 for none.');
const deadbandPct = z.number().min(0).max(MAX_PERCENT).describe('Percent deadband (0-100) of percent_of; 0 for none. With deadband_abs also set, a change must exceed both.');
const percentOf = z
  .enum(['eu_range', 'last_value'])
  .describe("eu_range: percent of the tag's EURange (high - low) when its source declares one, else of the last reported value; last_value: of |last reported value|.");
const heartbeatS = z
  .number()
  .int()
  .min(0)
  .max(MAX_HEARTBEAT_S)
  .describe('Re-send the latest value of a tag when nothing was reported for it for this many seconds; 0 for never.');

const tagRuleSchema = z
  .object({
    match: z
      .string()
      .min(1)
      .describe("Tag pattern: '*' within one level, '**' across levels, '?' one character, e.g. line1/* or **/speed. The first matching entry wins."),
    mode: mode.optional(),
    deadband_abs: deadbandAbs.optional(),
    deadband_pct: deadbandPct.optional(),
    percent_of: percentOf.optional(),
    heartbeat_s: heartbeatS.optional(),
  })
  .strict()
  .describe("Settings for the tags matching a pattern; keys left out keep the source's setting.");

export const reportSchema = z
  .object({
    mode: mode.default('none'),
    deadband_abs: deadbandAbs.default(0),
    deadband_pct: deadbandPct.default(0),
    percent_of: percentOf.default('eu_range'),
    heartbeat_s: heartbeatS.default(0),
    tags: z.array(tagRuleSchema).default([]).describe('Per-tag overrides by tag pattern, first match wins.'),
  })
  .strict()
  .superRefine((report, ctx) => {
    const check = (rule: ReportRule, path: PropertyKey[]) => {
      if (rule.mode === 'deadband' && rule.deadbandAbs === 0 && rule.deadbandPct === 0) {
        ctx.addIssue({ code: 'custom', path, message: 'mode deadband needs deadband_abs or deadband_pct above 0' });
      }
    };
    const base = baseRule(report);
    check(base, ['mode']);
    report.tags.forEach((tag, i) => check(mergeRule(base, tag), ['tags', i]));
  })
  .describe('Report-by-exception for what this source sends to Redis (the OPC UA server still gets every reading).');

export type ReportConfig = z.output<typeof reportSchema>;
type TagRuleConfig = z.output<typeof tagRuleSchema>;

/** Source defaults plus per-tag overrides, compiled once; rule(tag) is what a tag gets. */
export class CompiledReport {
  readonly base: ReportRule;
  readonly #overrides: Array<{ pattern: RegExp; rule: ReportRule }>;

  constructor(config: ReportConfig | undefined) {
    this.base = config ? baseRule(config) : REPORT_EVERYTHING;
    this.#overrides = (config?.tags ?? []).map((t) => ({ pattern: compileTagPattern(t.match), rule: mergeRule(this.base, t) }));
  }

  rule(tag: string): ReportRule {
    for (const o of this.#overrides) if (o.pattern.test(tag)) return o.rule;
    return this.base;
  }

  /** True when no tag can be filtered or get a heartbeat: the pipeline then keeps no state. */
  get passThrough(): boolean {
    return [this.base, ...this.#overrides.map((o) => o.rule)].every((r) => r.mode === 'none' && r.heartbeatMs === 0);
  }
}

function baseRule(c: Omit<ReportConfig, 'tags'>): ReportRule {
  return { mode: c.mode, deadbandAbs: c.deadband_abs, deadbandPct: c.deadband_pct, percentOf: c.percent_of, heartbeatMs: c.heartbeat_s * MS_PER_S };
}

function mergeRule(base: ReportRule, t: TagRuleConfig): ReportRule {
  return {
    mode: t.mode ?? base.mode,
    deadbandAbs: t.deadband_abs ?? base.deadbandAbs,
    deadbandPct: t.deadband_pct ?? base.deadbandPct,
    percentOf: t.percent_of ?? base.percentOf,
    heartbeatMs: t.heartbeat_s !== undefined ? t.heartbeat_s * MS_PER_S : base.heartbeatMs,
  };
}
