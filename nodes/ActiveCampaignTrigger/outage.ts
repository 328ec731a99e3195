import type { Logger } from 'n8n-workflow';

/** What the node logs through: n8n's logger, or a test's. */
export type NodeLog = Pick<Logger, 'warn' | 'info'>;

/**
 * A dependency the node may do without for a while (the Redis dedup store, the API that names custom fields):
 * one warning when it starts failing, one note when it answers again, nothing per delivery in between.
 */
export class Outage {
	down = false;

	failed(log: NodeLog, warning: string): void {
		if (!this.down) log.warn(warning);
		this.down = true;
	}

	recovered(log: NodeLog, note: string): void {
		if (this.down) log.info(note);
		this.down = false;
	}
}
