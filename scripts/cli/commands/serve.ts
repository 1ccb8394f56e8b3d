import { Command, InvalidArgumentError } from 'commander';
import { serve } from '../../web/serve';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number 0..65535 (0 = any free port)');
  return n;
}

/** `minisr serve`: web mode on 127.0.0.1 with a random token. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the app in a browser on 127.0.0.1 (web mode); prints the URL with its access token')
    .option('-p, --port <port>', 'port (0 = any free port)', port, 0)
    .option('--root <dir...>', 'folders the browser may read images from and write results to (default: none; uploads only)', [])
    .option('--config <dir>', 'settings and user models folder')
    .option('--no-build', 'do not build the renderer when dist/renderer is missing')
    .action(async (opts: { port: number; root: string[]; config?: string; build: boolean }) => {
      const { server, host } = await serve({
        port: opts.port,
        roots: opts.root,
        build: opts.build,
        ...(opts.config ? { configDir: opts.config } : {}),
      });
      console.log(`MiniSR web mode: open ${server.url}`);
      console.log(
        opts.root.length
          ? `allowed folders: ${host.paths.rootList().join(', ')}`
          : 'no folders allowed (--root DIR); images come in as uploads',
      );
      console.log('Ctrl+C stops the server.');
      const stop = async () => {
        await server.close();
        await host.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}
