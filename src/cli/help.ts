// The help texts, in a module that loads nothing else, so `--help` works even when a check or a
// parser cannot be loaded.

export const CONFIG_PATH = '.github/causal-review.yml';

export const MAIN_HELP = `Usage: causal-review <command> [options]

Reviews pull requests to Kubernetes operators (above all those written by AI coding
agents) and blocks merges that rest on sleep-based race "fixes" or on root-cause
diagnoses nobody verified.

Commands:
  analyze    review a local git range (or the whole tree with --all)
  demo       review the bundled example PR and show what the check run would say
  docs       regenerate docs/checks.md from the checks' metadata (--check: exit 1 if stale)
  chaos      run the chaos tests of an operator (see docs/chaos.md)
  protect    require the causal-review check in a repository's branch protection
  serve      run the GitHub App (Probot) server

Options:
  -h, --help     help; "causal-review <command> --help" for a command's options
  -v, --version  the version

Exit codes:
  0  success or neutral    1  failure (blocking findings enforced)    2  bad input

Examples:
  npx causal-review demo
  npx causal-review analyze --base origin/main --pr-description pr.md
  npx causal-review analyze --all --format sarif > causal-review.sarif
`;

export const ANALYZE_HELP = `Usage: causal-review analyze [options]

Review a local git range as a pull request: the changed lines of base..head, the
commits in between, and the PR text from --pr-description.

Options:
  --repo DIR              the repository (default: .)
  --base REF              the branch the PR merges into (default: origin/HEAD,
                          else main, else master); as on GitHub, the changes
                          are those since --head's merge-base with it
  --head REF              the PR head (default: HEAD); a branch name also feeds
                          branch-prefix authorship (claude/..., copilot/...)
  --all                   review every tracked file at --head as if the PR added
                          it (base = the empty tree, no commits); not with --base
  --pr-description FILE   markdown: a first line "# ..." is the title, the rest the body
                          (no such line: all of it is the body); pr-text findings
                          carry the file's line numbers
  --label NAME            a label of the PR (repeatable); ai.labels mark it AI-authored
  --config FILE           configuration (default: ${CONFIG_PATH} as it is at the
                          base commit, or at --head with --all; else the defaults)
  --format FORMAT         text (default), json or sarif; json and sarif keep stdout
                          to the document alone
  --jobs N|auto           threads (default: auto, the cores up to 4 when 200 or more
                          source files changed, else 1): with 2, one thread parses the
                          Go files ahead of the checks in the other; with 3 or more,
                          the threads take parts of whole packages from one queue;
                          parts hold about 1,500 source files at most, to bound
                          memory; the findings are the same whatever N is
  -h, --help              this help

Exit codes:
  0  success or neutral (no blocking findings, or not enforced on this PR)
  1  failure (blocking findings on a PR the configuration enforces)
  2  bad input: not a git repository, unknown revision, unreadable or invalid
     configuration, unreadable --pr-description, unknown option or format

Examples:
  causal-review analyze --base origin/main --pr-description pr.md
  causal-review analyze --all --format sarif > causal-review.sarif
  causal-review analyze --all --jobs 1
  causal-review analyze --base main --head claude/fix-race --format json
`;

export const DEMO_HELP = `Usage: causal-review demo [--format checkrun|text|json|sarif]

Review the bundled example pull request (examples/demo/: a kubebuilder operator where an
AI agent added time.Sleep to the reconciler to "fix" a status-update race, blaming API
server latency) with no git and no network, and print what the GitHub check run would
show: its conclusion, title, summary and line annotations.

Options:
  --format FORMAT   checkrun (default), or text, json, sarif as \`analyze\` prints them
  -h, --help        this help

Exit codes: as analyze (1 when the demo PR fails, which it is meant to).
`;

export const DOCS_HELP = `Usage: causal-review docs [--check] [--out FILE]

Regenerate docs/checks.md from the metadata of every registered check, and the
configuration reference in README.md from the configuration schema and its defaults.

Options:
  --check       write nothing; exit 1 when the file differs from what would be generated
  --out FILE    write the checks page here instead of docs/checks.md (README.md is left alone)
  -h, --help    this help

Exit codes: 0 written or up to date, 1 stale (with --check), 2 bad input.
`;
