import { Module } from '@nestjs/common';
import { FoxWampModule } from '@fox-wamp/nestjs';
import { ChatPageController } from './chat/chat-page.controller.js';
import { ChatService } from './chat/chat.service.js';
import { DEMO_REALM, DEMO_WAMP_PATH } from './demo.constants.js';
import { EchoService } from './echo/echo.service.js';
import { INVOICE_SCHEMA } from './invoices/invoice-schema.js';
import { InvoicesPageController } from './invoices/invoices-page.controller.js';
import { PageViewsService } from './invoices/page-views.service.js';
import { ReportService } from './lock/report.service.js';

/**
 * The demo: WAMP on the app's own HTTP port, a chat (service and page), an echo service, a resource lock, and
 * live per-customer totals of invoices (the aggregate engine, with its page) plus a page-view reducer.
 */
@Module({
  imports: [FoxWampModule.forRoot({ realms: [DEMO_REALM], wamp: { path: DEMO_WAMP_PATH }, schema: INVOICE_SCHEMA })],
  controllers: [ChatPageController, InvoicesPageController],
  providers: [ChatService, EchoService, ReportService, PageViewsService],
})
export class AppModule {}
