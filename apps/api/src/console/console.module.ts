import { Module } from '@nestjs/common';
import { ConsoleAssets } from './console-assets';
import { ConsoleController } from './console.controller';

/** Serves the operator console's built files at `/console` (see apps/console). */
@Module({ controllers: [ConsoleController], providers: [ConsoleAssets] })
export class ConsoleModule {}
