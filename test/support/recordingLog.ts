/** A logger for the node's stores (`warn`, `info`) that keeps each line, prefixed with its level. */
export class RecordingLog {
	readonly lines: string[] = [];

	warn(message: string) {
		this.lines.push(`warn: ${message}`);
	}

	info(message: string) {
		this.lines.push(`info: ${message}`);
	}
}
