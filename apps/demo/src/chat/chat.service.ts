import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Kwargs, RealmService, WampProcedure, WampSubscribe } from '@fox-wamp/nestjs';
import { ChatMessageDto } from './chat-message.dto.js';

export interface ChatMessage {
  readonly user: string;
  readonly text: string;
  readonly at: string;
}

const RECENT_SIZE = 50;
/** The retained entry that holds the recent messages: a newcomer's retained subscription gets them at once. */
export const RECENT_TOPIC = 'chat.recent';

/**
 * The chat: messages are publications to `chat.message` (kwargs `{ user, text, at }`), from `chat.post`
 * (validated) or from any client publishing directly. The service keeps the last 50 as the retained
 * entry `chat.recent`, so a durable store keeps them across restarts and any client can read them with a
 * retained subscription; `chat.history` returns them too.
 */
@Injectable()
export class ChatService implements OnApplicationBootstrap {
  private recent: ChatMessage[] = [];

  constructor(private readonly realm: RealmService) {}

  /** Picks up the recent messages a durable store kept from the last run. */
  async onApplicationBootstrap(): Promise<void> {
    const kept = (await this.realm.retained(RECENT_TOPIC))?.payload.args?.[0];
    if (Array.isArray(kept)) this.recent = kept as ChatMessage[];
  }

  @WampProcedure('chat.post')
  async post(@Kwargs() message: ChatMessageDto): Promise<ChatMessage> {
    const entry = { user: message.user, text: message.text, at: new Date().toISOString() };
    await this.realm.publish('chat.message', [], { ...entry });
    return entry;
  }

  @WampSubscribe('chat.message')
  async remember(@Kwargs() message: Partial<ChatMessage>): Promise<void> {
    if (typeof message.user !== 'string' || typeof message.text !== 'string') return;
    this.recent = [...this.recent, { user: message.user, text: message.text, at: message.at ?? new Date().toISOString() }].slice(-RECENT_SIZE);
    await this.realm.publish(RECENT_TOPIC, [this.recent], undefined, { retain: true });
  }

  @WampProcedure('chat.history')
  history(): ChatMessage[] {
    return this.recent;
  }
}
