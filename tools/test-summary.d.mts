export interface TestProject {
  name: string;
  dir: string;
}
export interface TestTotals {
  passed: number;
  failed: number;
  skipped: number;
  /** Projects that wrote no summary this run (each counted as one failure). */
  missing: string[];
}
export function testProjects(root: string, only?: readonly string[]): TestProject[];
export function clearSummaries(projects: readonly TestProject[]): void;
export function sumSummaries(projects: readonly TestProject[]): TestTotals;
