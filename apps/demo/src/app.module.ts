import { Module } from '@nestjs/common';
import { FoxWampModule } from '@fox-wamp/nestjs';
import { ChatPageController } from './chat/chat-page.controller.js';
import { ChatService } from './chat/chat.service.js';
import { DEMO_REALM, DEMO_WAMP_PATH } from './demo.constants.js';
import { EchoService } from './echo/echo.service.js';

/** The demo: WAMP on the app's own HTTP port, a chat (service and page) and an echo service. */
@Module({
  imports: [FoxWampModule.forRoot({ realms: [DEMO_REALM], wamp: { path: DEMO_WAMP_PATH } })],
  controllers: [ChatPageController],
  providers: [ChatService, EchoService],
})
export class AppModule {}
