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

/**
 * Warnings that a sender can cause at will (refused deliveries: a flood of forged calls, say): the first of
 * each kind is logged at once, later ones of that kind only once a minute, with how many were left out.
 */
export class ThrottledWarnings {
	private readonly kinds = new Map<string, { nextAt: number; leftOut: number }>();

	constructor(
		private readonly everyMs = 60_000,
		/** Kinds remembered at most (nodes × statuses in practice); the oldest is forgotten beyond it. */
		private readonly maxKinds = 1_000,
	) {}

	warn(log: NodeLog, kind: string, warning: string, now = Date.now()): void {
		const known = this.kinds.get(kind);
		if (known !== undefined && now < known.nextAt) {
			known.leftOut++;
			return;
		}
		const leftOut = known?.leftOut ?? 0;
		log.warn(leftOut === 0 ? warning : `${warning} (and ${leftOut} more like it since the last such line, not logged)`);
		this.kinds.delete(kind);
		this.kinds.set(kind, { nextAt: now + this.everyMs, leftOut: 0 });
		if (this.kinds.size > this.maxKinds) this.kinds.delete(this.kinds.keys().next().value as string);
	}
}
