import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FoxWampModuleOptions } from './interfaces/fox-wamp-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<FoxWampModuleOptions>()
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();

/** The resolved options, injectable anywhere in the app. */
export const FOX_WAMP_OPTIONS = MODULE_OPTIONS_TOKEN;
