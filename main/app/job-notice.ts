/**
 * The text of the desktop notification shown when a job ends (main.ts shows it with Electron's Notification).
 * Kept free of Electron so it is unit-tested without it.
 */
import type { JobSummary } from '../../preload/contract.ts';

const KIND: Record<string, string> = { optimize: 'Optimization', 'catalog-download': 'Download' };

function what(job: JobSummary): string {
  const recipe = (job.params as { recipe?: { name?: unknown } | string } | null)?.recipe;
  const name = typeof recipe === 'string' ? recipe : typeof recipe?.name === 'string' ? recipe.name : null;
  return `${KIND[job.kind] ?? job.kind}${name ? ` (${name})` : ''}`;
}

/** Title and body for a job that reached a final state; null for states that need no notice. */
export function jobEndNotice(job: JobSummary): { title: string; body: string } | null {
  switch (job.state) {
    case 'completed':
      return { title: `${what(job)} finished`, body: job.message ?? 'The result is in the history.' };
    case 'failed':
      return { title: `${what(job)} failed`, body: job.error ?? 'See the job in Edgewise for details.' };
    case 'interrupted':
      return { title: `${what(job)} was interrupted`, body: 'Resume it from the Jobs menu in Edgewise.' };
    default:
      // queued/running need no notice; a cancel is the user's own action.
      return null;
  }
}
