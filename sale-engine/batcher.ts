/**
 * Groups calls made in the same event-loop turn by key (a drop) and runs each group as one
 * request: a flash sale's burst of buys for one drop becomes a few Redis calls instead of
 * thousands. Order inside a group is arrival order. A failed group call fails each member.
 */
export class KeyedBatcher<Item, Answer> {
  private readonly queues = new Map<
    string,
    { item: Item; trace: string | undefined; resolve: (a: Answer) => void; reject: (e: unknown) => void }[]
  >();
  private scheduled = false;

  constructor(
    /** `traces`: each item's W3C traceparent, given only when at least one item has one. */
    private readonly run: (key: string, items: Item[], traces?: (string | undefined)[]) => Promise<Answer[]>,
    private readonly maxBatch: number,
  ) {}

  /** `trace`: the item's trace context (W3C traceparent), kept beside it through the batch. */
  submit(key: string, item: Item, trace?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) {
        queue = [];
        this.queues.set(key, queue);
      }
      queue.push({ item, trace, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a microtask: requests arriving in the same I/O phase (many sockets)
        // join the same batch; the wait is at most the rest of this event-loop turn.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queues = [...this.queues];
    this.queues.clear();
    for (const [key, queue] of queues) {
      for (let start = 0; start < queue.length; start += this.maxBatch) {
        const group = queue.slice(start, start + this.maxBatch);
        this.run(
          key,
          group.map((g) => g.item),
          tracesOf(group),
        ).then(
          (answers) => {
            group.forEach((g, i) => {
              const answer = answers[i];
              if (answer === undefined) g.reject(new Error(`batch answer ${i} missing for ${key}`));
              else g.resolve(answer);
            });
          },
          (err: unknown) => {
            for (const g of group) g.reject(err);
          },
        );
      }
    }
  }
}

/** Each member's trace context, or undefined when none has one (tracing off: nothing built). */
function tracesOf(group: readonly { trace: string | undefined }[]): (string | undefined)[] | undefined {
  for (const g of group) if (g.trace !== undefined) return group.map((m) => m.trace);
  return undefined;
}
