/** What one benchmark scenario reports: a titled Markdown section for docs/benchmarks.md. */
export interface BenchSection {
  title: string;
  markdown: string;
}
