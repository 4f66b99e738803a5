import { afterEach, describe, expect, it } from 'vitest';
import { createServeCommand } from './serve.js';

const parse = (args: string[]) => createServeCommand().exitOverride().parseAsync(args, { from: 'user' });

afterEach(() => {
  delete process.env.TESSERA_TOKEN;
});

describe('tessera serve', () => {
  it('refuses --host 0.0.0.0 without a token before reading the store (E_SERVE_AUTH)', async () => {
    delete process.env.TESSERA_TOKEN;
    await expect(parse(['--store', '/no/such.store', '--host', '0.0.0.0'])).rejects.toMatchObject({ code: 'E_SERVE_AUTH' });
  });

  it('takes the token from TESSERA_TOKEN, or goes on open with --insecure-no-auth (then fails on the missing store)', async () => {
    process.env.TESSERA_TOKEN = 'from-env';
    await expect(parse(['--store', '/no/such.store', '--host', '0.0.0.0'])).rejects.toMatchObject({ code: 'E_CONFIG' });
    delete process.env.TESSERA_TOKEN;
    await expect(parse(['--store', '/no/such.store', '--host', '0.0.0.0', '--insecure-no-auth'])).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
  });

  it('refuses an unknown --scan before reading the store', async () => {
    await expect(parse(['--store', '/no/such.store', '--scan', 'int4'])).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });

  it('documents the token in --help', () => {
    const help = createServeCommand().helpInformation();
    expect(help).toContain('--token <secret>');
    expect(help).toContain('TESSERA_TOKEN');
    expect(help).toContain('#token=');
    expect(help).toContain('--insecure-no-auth');
  });
});
