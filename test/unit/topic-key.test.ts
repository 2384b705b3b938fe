import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { levelsOfKey, mqttTopicOf, topicKey, topicKeyOfUri, wampUriOf } from '@fox-wamp/core';

describe('topic keys (one key per list of levels, across WAMP and MQTT)', () => {
  it('is the URI itself for a WAMP URI without a backslash', () => {
    expect(topicKey(['com', 'example', 'x'])).toBe('com.example.x');
    expect(topicKeyOfUri('com.example.x')).toBe('com.example.x');
  });

  it('tells an MQTT level holding a dot from two WAMP levels', () => {
    expect(topicKey(['a.b', 'c'])).not.toBe(topicKey(['a', 'b', 'c']));
    expect(levelsOfKey(topicKey(['a.b', 'c']))).toEqual(['a.b', 'c']);
  });

  it('keeps empty MQTT levels apart (/a, a//b, a/)', () => {
    const keys = [['', 'a'], ['a', '', 'b'], ['a', ''], ['a', 'b']].map(topicKey);
    expect(new Set(keys).size).toBe(4);
  });

  it('round-trips any list of levels, and different lists never share a key', () => {
    const levels = fc.array(fc.string({ unit: fc.constantFrom('a', '.', '\\', '/', '') }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(levels, levels, (a, b) => {
        expect(levelsOfKey(topicKey(a))).toEqual(a);
        if (JSON.stringify(a) !== JSON.stringify(b)) expect(topicKey(a)).not.toBe(topicKey(b));
      }),
    );
  });

  it('renders a topic in each protocol', () => {
    expect(wampUriOf(['a', 'b'])).toBe('a.b');
    expect(mqttTopicOf(['a', 'b'])).toBe('a/b');
    expect(topicKeyOfUri('a\\b.c')).toBe('a\\\\b.c');
  });
});
