import { Controller, Get, Header } from '@nestjs/common';
import { DEMO_WAMP_PATH } from '../demo.constants.js';
import { CHAT_PAGE } from './chat-page.js';

/** Serves the chat page on the same port as WAMP (an ordinary controller next to the router). */
@Controller()
export class ChatPageController {
  private readonly page = CHAT_PAGE.replace('WAMP_PATH', DEMO_WAMP_PATH);

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  index(): string {
    return this.page;
  }
}
