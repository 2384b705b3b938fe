import { Controller, Get, Header } from '@nestjs/common';
import { DEMO_WAMP_PATH } from '../demo.constants.js';
import { INVOICES_PAGE } from './invoices-page.js';

/** Serves the live invoices page next to the router. */
@Controller('invoices')
export class InvoicesPageController {
  private readonly page = INVOICES_PAGE.replace('WAMP_PATH', DEMO_WAMP_PATH);

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  index(): string {
    return this.page;
  }
}
