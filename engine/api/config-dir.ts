import { homedir, platform } from 'node:os';
import { join } from 'node:path';

/** Where settings and the user's models live: MINISR_CONFIG_DIR, else the platform's per-user config folder. */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MINISR_CONFIG_DIR) return env.MINISR_CONFIG_DIR;
  const home = homedir();
  switch (platform()) {
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'MiniSR');
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'MiniSR');
    default:
      return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'minisr');
  }
}
