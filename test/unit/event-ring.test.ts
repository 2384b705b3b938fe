import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventRing, type HistoryEvent } from '@fox-wamp/core';

const eventOf = (eventId: number, publishedAt: number): HistoryEvent => ({ eventId, topic: 't', payload: { args: [eventId] }, publisherId: 0, publicationId: eventId, publishedAt });

type Operation = { kind: 'push'; gap: number; age: number } | { kind: 'drop'; before: number } | { kind: 'after'; afterId: number; limit: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), gap: fc.integer({ min: 1, max: 3 }), age: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('drop' as const), before: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ kind: fc.constant('after' as const), afterId: fc.integer({ min: 0, max: 400 }), limit: fc.integer({ min: 1, max: 12 }) }),
);

describe('EventRing', () => {
  it('keeps the newest `capacity` events in ID order, like a trimmed array', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.array(operation, { maxLength: 120 }), (capacity, operations) => {
        const ring = new EventRing(capacity);
        let model: HistoryEvent[] = [];
        let eventId = 0;
        let clock = 0;
        for (const op of operations) {
          if (op.kind === 'push') {
            eventId += op.gap;
            clock += op.age;
            const event = eventOf(eventId, clock);
            ring.push(event);
            model = [...model, event].slice(-capacity);
          } else if (op.kind === 'drop') {
            ring.dropOlderThan(op.before);
            // Only from the old end, as the store trims: an event is dropped once everything before it was.
            while (model.length > 0 && model[0]!.publishedAt < op.before) model = model.slice(1);
          } else {
            const expected = model.filter((event) => event.eventId > op.afterId).slice(0, op.limit);
            expect(ring.after(op.afterId, op.limit)).toEqual(expected);
          }
          expect(ring.size).toBe(model.length);
          expect(Array.from({ length: ring.size }, (_, index) => ring.at(index).eventId)).toEqual(model.map((event) => event.eventId));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('holds nothing with capacity 0', () => {
    const ring = new EventRing(0);
    ring.push(eventOf(1, 0));
    expect(ring.size).toBe(0);
    expect(ring.after(0, 10)).toEqual([]);
  });
});
