/**
 * Counts what a workflow's HTTP Request node posts to it (`{ "id": … }` per execution), so thousands of
 * executions can be counted without storing them in n8n's database.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';

export class CountingServer {
	private readonly perId = new Map<string, number>();
	private total = 0;

	private constructor(private readonly server: http.Server) {}

	static async start(): Promise<CountingServer> {
		let counting: CountingServer | undefined;
		const server = http.createServer((request, response) => {
			let body = '';
			request.on('data', (chunk: Buffer) => (body += chunk.toString()));
			request.on('end', () => {
				const id = String((JSON.parse(body || '{}') as { id?: unknown }).id ?? '');
				counting!.total++;
				counting!.perId.set(id, (counting!.perId.get(id) ?? 0) + 1);
				response.writeHead(200, { 'content-type': 'application/json' }).end('{"counted":true}');
			});
		});
		counting = new CountingServer(server);
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return counting;
	}

	get url(): string {
		return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/count`;
	}

	/** n8n's HTTP Request node posting the contact id of each item here. */
	node(name: string): Record<string, unknown> {
		return {
			id: randomUUID(),
			name,
			type: 'n8n-nodes-base.httpRequest',
			typeVersion: 4.2,
			position: [220, 0],
			parameters: {
				method: 'POST',
				url: this.url,
				sendBody: true,
				bodyParameters: { parameters: [{ name: 'id', value: '={{ $json.contact.id }}' }] },
				options: {},
			},
		};
	}

	/** Waits until `expected` posts arrived and none came for 10 s (or `timeoutMs`); returns the counts. */
	async settled(expected: number, timeoutMs: number): Promise<{ total: number; distinct: number }> {
		const deadline = Date.now() + timeoutMs;
		let last = -1;
		let quietSince = Date.now();
		while (Date.now() < deadline) {
			if (this.total !== last) {
				last = this.total;
				quietSince = Date.now();
			} else if (this.total >= expected && Date.now() - quietSince >= 10_000) {
				break;
			}
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
		return { total: this.total, distinct: this.perId.size };
	}

	async close(): Promise<void> {
		this.server.closeAllConnections();
		await new Promise((resolve) => this.server.close(resolve));
	}
}
