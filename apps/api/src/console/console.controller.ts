import { AcceptsAnyQuery } from '@bulkhead/openapi';
import { BulkheadConfig } from '@bulkhead/config';
import { Public } from '@bulkhead/identity';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ConsoleAssets } from './console-assets';
import { ConsoleAssetNotFoundProblem, ConsoleNotBuiltProblem } from './console.errors';
import { consoleHeaders } from './console-headers';

/** What the console's script needs to know to log in; nothing here is secret. */
export interface ConsoleSettings {
  /** The development login (paste an operator token minted by `bulkhead token --operator`). */
  devLogin: boolean;
  /** Authorization code with PKCE at the configured issuer, when the console has a client id. */
  oidc: { issuer: string; clientId: string; scope: string } | null;
  operatorScope: string;
}

/**
 * The operator console: static files only. Every page of it reads and acts through the operator
 * API with the operator's own token, so it has no route of its own past these files.
 */
@ApiExcludeController()
@Public()
@AcceptsAnyQuery()
@Controller('console')
export class ConsoleController {
  private readonly settings: ConsoleSettings;
  private readonly providerOrigin: string | undefined;

  constructor(
    private readonly assets: ConsoleAssets,
    config: BulkheadConfig,
  ) {
    const oidc = config.CONSOLE_OIDC_CLIENT_ID
      ? { issuer: config.AUTH_ISSUER, clientId: config.CONSOLE_OIDC_CLIENT_ID, scope: config.CONSOLE_OIDC_SCOPE ?? `openid ${config.AUTH_OPERATOR_SCOPE}` }
      : null;
    this.settings = { devLogin: config.DEV_ISSUER, oidc, operatorScope: config.AUTH_OPERATOR_SCOPE };
    this.providerOrigin = oidc ? originOf(oidc.issuer) : undefined;
  }

  @Get()
  index(@Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, 'index.html');
  }

  @Get('settings.json')
  async settingsOf(@Res() reply: FastifyReply): Promise<void> {
    await consoleHeaders(reply, this.providerOrigin).type('application/json').send(JSON.stringify(this.settings));
  }

  @Get(':file')
  file(@Param('file') name: string, @Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, name);
  }

  private async send(reply: FastifyReply, name: string): Promise<void> {
    if (!this.assets.built) throw new ConsoleNotBuiltProblem();
    const asset = this.assets.get(name);
    if (!asset) throw new ConsoleAssetNotFoundProblem();
    await consoleHeaders(reply, this.providerOrigin).type(asset.type).send(asset.body);
  }
}

/** The issuer's origin, or none when it is not an http(s) URL (then no OIDC login can work anyway). */
function originOf(issuer: string): string | undefined {
  try {
    const url = new URL(issuer);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
