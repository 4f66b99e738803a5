import path from 'node:path';
import { writeFileAtomic } from '@tessera/core';
import { type CurveSeries, renderCurveSvg } from './curve.js';
import type { MetricsRecord } from './metricsLog.js';

function seriesOf(records: readonly MetricsRecord[], kind: string, key: string): CurveSeries {
  return {
    name: key,
    points: records.filter((r) => r.kind === kind && typeof r[key] === 'number').map((r) => [r.step, r[key] as number]),
  };
}

/**
 * Draws the run's curves from its metrics records: `loss.svg` (training loss, its parts and
 * every eval metric whose name contains "loss") and, when evaluation gives other metrics,
 * `eval.svg`. Returns the files written.
 */
export async function renderMetricsCurves(records: readonly MetricsRecord[], outputDir: string): Promise<string[]> {
  const keysOf = (kind: string) => [...new Set(records.filter((r) => r.kind === kind).flatMap((r) => Object.keys(r)))];
  const trainLoss = keysOf('train').filter((k) => k === 'loss' || k.startsWith('loss/'));
  const evalKeys = keysOf('eval').filter((k) => k.startsWith('eval/'));
  const lossSeries = [
    ...trainLoss.map((k) => seriesOf(records, 'train', k)),
    ...evalKeys.filter((k) => k.includes('loss')).map((k) => seriesOf(records, 'eval', k)),
  ];
  const files: string[] = [];
  if (lossSeries.some((s) => s.points.length > 0)) {
    const file = path.join(outputDir, 'loss.svg');
    // Losses falling over decades read better on a log axis.
    const ys = lossSeries.flatMap((s) => s.points.map((p) => p[1]));
    const logY = ys.every((y) => y > 0) && Math.max(...ys) / Math.min(...ys) > 100;
    await writeFileAtomic(
      file,
      renderCurveSvg(lossSeries, { title: 'Loss', xLabel: 'step', yLabel: logY ? 'loss (log scale)' : 'loss', logY }),
    );
    files.push(file);
  }
  const otherEval = evalKeys.filter((k) => !k.includes('loss')).map((k) => seriesOf(records, 'eval', k));
  if (otherEval.some((s) => s.points.length > 0)) {
    const file = path.join(outputDir, 'eval.svg');
    await writeFileAtomic(file, renderCurveSvg(otherEval, { title: 'Evaluation', xLabel: 'step', yLabel: 'metric' }));
    files.push(file);
  }
  return files;
}
