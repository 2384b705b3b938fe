import { Module } from '@nestjs/common';
import { FoxWampModule } from '@fox-wamp/nestjs';
import { ChatPageController } from './chat/chat-page.controller.js';
import { ChatService } from './chat/chat.service.js';
import { DEMO_REALM, DEMO_WAMP_PATH } from './demo.constants.js';
import { EchoService } from './echo/echo.service.js';
import { ReportService } from './lock/report.service.js';

/** The demo: WAMP on the app's own HTTP port, a chat (service and page), an echo service and a resource lock. */
@Module({
  imports: [FoxWampModule.forRoot({ realms: [DEMO_REALM], wamp: { path: DEMO_WAMP_PATH } })],
  controllers: [ChatPageController],
  providers: [ChatService, EchoService, ReportService],
})
export class AppModule {}
