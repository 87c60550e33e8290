import { ProblemError } from '@bulkhead/problem';

export class ConsoleNotBuiltProblem extends ProblemError {
  constructor() {
    super(503, 'console_not_built', 'Console not built', 'The console assets are missing from CONSOLE_ASSETS_DIR: run `npm run build`.');
  }
}

export class ConsoleAssetNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'console_asset_not_found', 'Not found', 'The console has no such file.');
  }
}
