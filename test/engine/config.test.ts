// Config parsing: defaults, merging, and errors that name the file and the key.

import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, parseConfig } from '../../src/config/schema.js';

describe('parseConfig', () => {
  it('gives the defaults for an empty file', () => {
    expect(parseConfig('', 'c.yml')).toEqual(DEFAULT_CONFIG);
  });

  it('merges sections over the defaults', () => {
    const config = parseConfig('enforce: all\nai:\n  labels: [agent]\nchecks:\n  sleep-fix:\n    severity: warning\n', 'c.yml');
    expect(config.enforce).toBe('all');
    expect(config.ai.labels).toEqual(['agent']);
    expect(config.ai.branchPrefixes).toEqual(DEFAULT_CONFIG.ai.branchPrefixes);
    expect(config.checks['sleep-fix']).toEqual({ severity: 'warning' });
  });

  it.each([
    ['enforce: sometimes', /c\.yml: enforce: must be one of ai-authored, all, none/],
    ['enforse: all', /unknown key "enforse"/],
    ['checks:\n  sleep-fix:\n    enabled: "yes"', /checks\.sleep-fix\.enabled: must be boolean/],
    ['enforce: [', /c\.yml: not valid YAML/],
  ])('rejects %j naming the problem', (text, message) => {
    expect(() => parseConfig(text, 'c.yml')).toThrowError(ConfigError);
    expect(() => parseConfig(text, 'c.yml')).toThrowError(message);
  });
});
