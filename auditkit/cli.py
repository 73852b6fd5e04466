"""The ``audit`` command line: parse options, call the library, map outcomes to exit codes.

Exit codes: 0 the gate passed (or the data is valid), 1 findings (a gating rule failed,
contract violations), 2 the audit could not be carried out. Errors are one ``Error: ...``
line on stderr; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ._version import __version__
from .errors import AuditkitError
from .sanitize import one_line, short_repr, terminal_safe as term

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
SEED = click.IntRange(0, 2**32 - 1)  # what numpy's random generators accept


class _State:
    debug = False


class _AuditGroup(click.Group):
    """A click group that turns every failure to run into one ``Error:`` line and exit 2, and
    offers each installed pack's subcommand (its plugin's ``command()``) beside its own."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            packs = _pack_commands()
        except AuditkitError:
            packs = {}  # a broken pack: its error is shown when a command needs it, not by --help
        return sorted({*super().list_commands(ctx), *packs})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or _pack_commands().get(name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            exc.exit_code = EXIT_ERROR  # a bad command line is "could not run", never a finding
            exc.message = one_line(exc.message)  # it may quote what was typed, escape sequences included
            raise
        except (click.exceptions.Exit, click.Abort):
            raise  # the commands end with ctx.exit(code): the only way out with a verdict
        except AuditkitError as exc:
            _fail(exc.message)
        except KeyboardInterrupt:
            _fail("interrupted")
        except SystemExit as exc:
            # Only auditkit decides the exit code. Anything else that tries to end the process
            # (a model's predict, a plugin) must not turn a failing audit into exit 0.
            _fail(f"something inside the audit tried to end the process (SystemExit {short_repr(exc.code)}) "
                  "before a verdict was reached; nothing was written, rerun with --debug to see where")
        except Exception as exc:  # an internal error must still be one line and exit 2
            _fail(f"internal error ({type(exc).__name__}: {one_line(exc, 300)}); rerun with --debug for the traceback and report it")
        except BaseException as exc:  # GeneratorExit or a custom BaseException from code auditkit called
            _fail(f"the audit was interrupted by {type(exc).__name__} ({one_line(exc, 200)}); nothing was written, "
                  "rerun with --debug to see where")


def _pack_commands() -> dict[str, click.Command]:
    """The subcommands installed packs add, by name (discovered only when one is looked up)."""
    from .packs import plugins

    commands = {}
    for plugin in plugins().values():
        command = plugin.command()
        if command is not None:
            commands[command.name] = command
    return commands


def _fail(message: str) -> None:
    if _State.debug:
        import traceback

        traceback.print_exc()
    message = one_line(message)
    click.echo(f"Error: {message}" if message.endswith(".") else f"Error: {message}.", err=True)
    sys.exit(EXIT_ERROR)


def _exit(code: int) -> None:
    """End a command with its verdict's exit code (a stray ``sys.exit`` elsewhere is an error, see above)."""
    raise click.exceptions.Exit(code)


def _stage_reporter(quiet: bool):
    """Stage messages on a terminal; silent when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    return lambda message: click.echo(click.style(f"→ {message}…", dim=True), err=True)


@click.group(cls=_AuditGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="auditkit")
@click.option("--debug", is_flag=True, help="Show the full traceback when something goes wrong.")
def cli(debug: bool) -> None:
    """auditkit: decide whether a model may be promoted.

    Validates data against contracts, measures fairness across sensitive groups, explains
    the model with SHAP, and gates promotion on the rules of a policy file (audit.yaml).

    \b
    Exit codes: 0 gate passed · 1 gate failed (findings) · 2 could not run.
    Start with `audit demo` to see a complete audit of real credit data.
    """
    _State.debug = debug


@cli.command()
@click.argument("policy", default="audit.yaml", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", default="audit-report", show_default=True, type=click.Path(path_type=Path),
              help="Folder for report.html, results.json, junit.xml, summary.md and the documents of the "
                   "policy's packs; written as one set.")
@click.option("--data", type=click.Path(path_type=Path), help="Audit this data file instead of the policy's data.path.")
@click.option("--engine", type=click.Choice(["pandas", "spark"]), help="Override data.engine: read and count the data with pandas or Spark.")
@click.option("--model", type=click.Path(path_type=Path), help="Audit this model file instead of the policy's model.")
@click.option("--trust-model", is_flag=True, help="Trust every type in the model file (allows pickle/joblib). Only for files you trust.")
@click.option("--no-explain", is_flag=True, help="Skip SHAP explanations.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True,
              help="error: only rules of severity error can fail the gate; warning: failing warnings fail it too.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Random seed for bootstrap resampling and row sampling: the same seed gives the same results.")
@click.option("--quiet", "-q", is_flag=True, help="Print the verdict line only.")
@click.option("--mlflow", "use_mlflow", is_flag=True,
              help="Log the audit as an MLflow run: metrics, the output files as artifacts, the verdict as a tag.")
@click.option("--mlflow-experiment", metavar="NAME", help="MLflow experiment for --mlflow (default: MLflow's default).")
@click.option("--promote", metavar="ALIAS",
              help="When the gate passes, set this registry alias on the candidate (model.path must be a models:/ URI).")
@click.option("--ledger", "ledger_url", metavar="URL", envvar="AUDITKIT_LEDGER", show_envvar=True,
              help="Append this audit to the audit ledger at URL: a SQLite file (audits.db, created when missing) or "
                   "postgresql://USER@HOST/DB. Overrides the policy's ledger:. Trend rules read their history there.")
@click.option("--sign-key", type=click.Path(path_type=Path), metavar="FILE",
              help="Sign the outputs with this Ed25519 private key (from `audit keygen`): adds manifest.json and "
                   "manifest.sig; the report shows the key's fingerprint. Passphrase: AUDITKIT_KEY_PASSPHRASE.")
@click.option("--labels", type=click.Choice(["present", "pending"]), default="present", show_default=True,
              help="pending: audit a production batch whose true outcomes are not known yet; rules that need them "
                   "wait (status pending) and everything else is judged.")
@click.option("--batch", metavar="ID",
              help="Name the batch of data audited (default: the data file's SHA-256). When its labels arrive, "
                   "audit the labelled data with the same --batch: the ledger links both entries.")
def check(policy, out_dir, data, engine, model, trust_model, no_explain, fail_on, seed, quiet, use_mlflow,
          mlflow_experiment, promote, ledger_url, sign_key, labels, batch):
    """Run the audit described by POLICY and write its outputs.

    POLICY defaults to ./audit.yaml. Exits 0 when every gating rule passes, 1 when the gate fails, 2 when the audit
    could not be carried out (including when the audit could not be recorded in its ledger).
    """
    from .pipeline import run_audit
    from .report import write_outputs
    from .report.terminal import terminal_summary, verdict_line
    from .report.writers import signature_facts

    if use_mlflow:
        from .stages.plan import require_mlflow

        require_mlflow("--mlflow logs the audit to MLflow")
    signer = None
    if sign_key is not None:  # before any work: a key that cannot be used stops the run at once
        from .signing import load_private_key

        signer = load_private_key(sign_key)
    result = run_audit(policy, data=data, model=model, trust_model=trust_model, explain=not no_explain,
                       fail_on=fail_on, seed=seed, progress=_stage_reporter(quiet), command=_command_line(),
                       engine=engine, promote=promote, ledger=ledger_url or None, batch=batch, labels=labels)
    results = result.to_dict()
    if signer is not None:
        results["provenance"]["signature"] = signature_facts(signer)
    outputs = write_outputs(results, out_dir, templates=result.policy.report_templates,
                            hint="choose another folder with --out", signer=signer)
    entry = _record(result.ledger, results, outputs, signer)
    click.echo(verdict_line(results) if quiet else terminal_summary(results, outputs=outputs))
    if entry is not None and not quiet:
        click.echo(term(f"ledger: entry #{entry.seq} ({entry.entry_hash[:12]}) in {result.ledger.display}"))
    if signer is not None and not quiet:
        click.echo(term(f"signed: manifest.json and manifest.sig with key {signer.fingerprint}"))
    if use_mlflow:
        from .mlflow_registry import log_audit

        run_id = log_audit(results, outputs.folder, experiment=mlflow_experiment, run_name=result.policy.name)
        click.echo(term(f"mlflow run: {run_id}"))
    if promote:
        if result.passed:
            from .mlflow_registry import promote as set_alias

            # Promote exactly the version that was audited, even if an alias moved meanwhile.
            registry = (results["provenance"].get("model") or {}).get("registry") or {}
            set_alias(result.policy.model.uri, promote, version=registry.get("version"))
            click.echo(term(f"promoted: {registry.get('pinned_uri') or result.policy.model.uri} is now @{promote}"))
        else:
            click.echo(term(f"not promoted: the gate failed, so @{promote} was left where it was"))
    _exit(result.exit_code)


@cli.command()
@click.argument("policy", default="audit.yaml", type=click.Path(path_type=Path))
@click.option("--out", "out_file", required=True, type=click.Path(path_type=Path),
              help="The file to write: .csv (cells safe against spreadsheet formulas) or .parquet.")
@click.option("--rows", "which", type=click.Choice(["adverse", "all"]), default="adverse", show_default=True,
              help="Reasons for every adverse decision, or for every row.")
@click.option("--data", type=click.Path(path_type=Path), help="Use this data file instead of the policy's data.path.")
@click.option("--model", type=click.Path(path_type=Path), help="Use this model file instead of the policy's model.")
@click.option("--trust-model", is_flag=True, help="Trust every type in the model file (allows pickle/joblib). Only for files you trust.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the baseline sample.")
@click.option("--quiet", "-q", is_flag=True, help="Print the outcome line only.")
def reasons(policy, out_file, which, data, model, trust_model, seed, quiet):
    """Write the principal reasons of POLICY's adverse decisions (adverse-action reason codes).

    Each reason is a raw model input whose exact SHAP value lowers the applicant's score, against
    the policy's baseline (reasons.baseline), stated with its reason code (reasons.codes).
    Sensitive features and inputs flagged as their proxies are never stated unless
    reasons.allow names them. Exits 0 when written, 2 when the reasons could not be computed.
    """
    from .adverse_action._run import reasons_for_policy
    from .outputs import write_file
    from .sanitize import csv_cell

    suffix = out_file.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise click.BadParameter(f"{one_line(out_file)} must end in .csv or .parquet", param_hint="--out")
    found = reasons_for_policy(policy, data=data, model=model, trust_model=trust_model, rows=which, seed=seed,
                               say=_stage_reporter(quiet))
    table = found.frame
    if suffix == ".csv":
        safe = table.copy()
        for column in safe.columns:
            if safe[column].dtype == object or str(safe[column].dtype).startswith(("str", "string")):
                safe[column] = safe[column].map(csv_cell)
        content = safe.to_csv(index=False)
    else:
        import io

        buffer = io.BytesIO()
        table.astype({"value": str}).to_parquet(buffer, index=False)
        content = buffer.getvalue()
    write_file(out_file, content, hint="choose another path with --out")
    stated = table["row"].nunique() if len(table) else 0
    click.echo(term(f"reasons: {stated:,} of {found.adverse:,} adverse decisions ({found.rows:,} rows) -> {out_file}"
                    if which == "adverse" else f"reasons: {stated:,} of {found.rows:,} rows -> {out_file}"))
    if not quiet:
        click.echo(term(f"up to {found.k} reasons each, against the {found.baseline} population"
                        + ("" if found.coded else "; no reasons.codes in the policy: reasons are stated by column")))
        never = [f"{c} (sensitive or its proxy)" for c in found.protected if c not in found.excluded]
        never += [f"{c} (reasons.exclude)" for c in found.excluded]
        if never:
            click.echo(term("never stated: " + ", ".join(never)))
    _exit(EXIT_PASSED)


@cli.command()
@click.argument("policy", default="audit.yaml", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", default="remedy", show_default=True, type=click.Path(path_type=Path),
              help="Folder for remedies.csv, remedies.json and the chosen candidate's model file and policy snippet.")
@click.option("--candidate", metavar="ID",
              help="Write this candidate (an id of the table) instead of the most accurate one that passes.")
@click.option("--data", type=click.Path(path_type=Path), help="Search on this data file instead of the policy's data.path.")
@click.option("--model", type=click.Path(path_type=Path), help="Remedy this model file instead of the policy's model.")
@click.option("--trust-model", is_flag=True, help="Trust every type in the model file (allows pickle/joblib). Only for files you trust.")
@click.option("--no-explain", is_flag=True, help="Skip SHAP explanations (no proxy candidates then).")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the folds, the bootstrap and the random draws: the same seed gives the same results.")
@click.option("--quiet", "-q", is_flag=True, help="Print the outcome line only.")
def remedy(policy, out_dir, candidate, data, model, trust_model, no_explain, seed, quiet):
    """Search remedies for the fairness rules POLICY's audit fails, and write the chosen one.

    Every candidate is fitted on part of the audit rows and judged by the policy's own rules
    on the rows it was not fitted on. Nothing is applied: the chosen candidate is written as a
    model file (.skops) with a policy snippet, to audit again with `audit check --model`.
    Exits 0 when the written candidate passes every failing rule (or there is nothing to
    remedy), 1 when no candidate does, 2 when the search could not be carried out.
    """
    from .outputs import write_folder
    from .remediation._api import search_remedies
    from .remediation._files import remedy_files
    from .report.terminal import remedy_summary

    result = search_remedies(policy, data=data, model=model, trust_model=trust_model, explain=not no_explain,
                             seed=seed, progress=_stage_reporter(quiet), command=_command_line())
    found = result.remedies
    if found is None or not found.failing_rules:
        click.echo(term("nothing to remedy: no fairness rule fails or is inconclusive"))
        _exit(EXIT_PASSED)
    if candidate is not None:
        try:
            chosen = found.candidate(candidate)
        except KeyError as exc:
            raise click.BadParameter(one_line(exc.args[0]), param_hint="--candidate") from None
        if not chosen.writable:
            raise click.BadParameter(f"candidate {chosen.id!r} cannot be written as a model file ({chosen.how_to_apply})",
                                     param_hint="--candidate")
    elif found.candidate("current").passes:
        chosen = None  # nothing blocks as audited: only the table, for the inconclusive rules
    else:
        chosen = found.best()
    write_folder(out_dir, remedy_files(found, chosen, policy_name=result.policy.name),
                           hint="choose another folder with --out")
    click.echo(remedy_summary(found, chosen, out_dir, quiet=quiet))
    clears = chosen.passes if chosen is not None else found.candidate("current").passes
    _exit(EXIT_PASSED if clears else EXIT_FAILED)


@cli.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--contract", required=True, type=click.Path(path_type=Path), help="The pandera YAML contract.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a table of violations; json: the contract result as JSON.")
def validate(data, contract, fmt):
    """Validate DATA against a data contract, without a policy or model.

    Exits 0 when the data holds the contract, 1 on violations, 2 when it could not run.
    """
    import json

    from .contract import load_contract
    from .contract import validate as validate_frame
    from .data import load_table

    schema = load_contract(contract)
    frame = load_table(data)
    result = validate_frame(frame, schema, contract_name=str(contract))
    if fmt == "json":
        click.echo(json.dumps({"data": str(data), **result.to_dict()}, indent=2, ensure_ascii=False))
    else:
        click.echo(_contract_table(result, data))
    _exit(EXIT_PASSED if result.passed else EXIT_FAILED)


def _contract_table(result, data) -> str:
    # Column names, checks and examples come from the data: every cell goes through term().
    if result.passed:
        return f"valid: {term(data)} holds the contract ({result.rows:,} rows, {len(result.columns_checked)} columns checked)"
    rows = [(term(v.column or "(table)"), term(v.check), f"{v.failure_count:,}", term(", ".join(map(str, v.examples))))
            for v in result.violations]
    header = ("column", "check", "failures", "examples")
    widths = [min(max(len(r[i]) for r in rows + [header]), 40) for i in range(4)]
    lines = ["  ".join(c[:w].ljust(w) for c, w in zip(header, widths))]
    lines += ["  ".join(c[:w].ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.append(f"\ninvalid: {result.total_failures:,} failing values in {len(rows)} checks ({result.rows:,} rows)")
    return "\n".join(lines)


@cli.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "md"]), default="text", show_default=True,
              help="text: tables for a terminal; md: Markdown for a pull-request comment.")
@click.option("--tolerance", type=float, default=0.01, show_default=True,
              help="List the numbers (metrics, disparities, rules' observed values) that moved by more than "
                   "this absolute amount.")
def diff(old, new, fmt, tolerance):
    """Compare two saved results.json files, OLD and NEW.

    Shows the verdict, the rules whose status or definition changed, the numbers that moved
    and the groups that are new or vanished. Exits 1 when NEW regressed (a rule gates that did not gate in OLD, or the verdict left
    PASS), else 0; 2 when a file cannot be read.
    """
    from .diff import diff_files
    from .report.diff_render import render_markdown, render_text

    result = diff_files(old, new, tolerance=tolerance)
    click.echo(render_markdown(result) if fmt == "md" else render_text(result))
    _exit(EXIT_FAILED if result.regressed else EXIT_PASSED)


@cli.group()
def schema() -> None:
    """Draft and manage data contracts (pandera YAML)."""


@schema.command("infer")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Where to write the contract YAML.")
@click.option("--max-categories", type=int, default=50, show_default=True,
              help="Text columns with at most this many values get an allowed-values check.")
@click.option("--force", is_flag=True, help="Replace the file at --output if it exists.")
def schema_infer(data, output, max_categories, force):
    """Draft a contract from DATA: dtypes, nullability, ranges, allowed categories, uniqueness.

    The draft validates the data it came from; read its comments and tighten it before use.
    """
    from .data import load_table
    from .errors import OutputError
    from .infer import infer_contract
    from .outputs import write_file

    hint = "choose another -o or pass --force to overwrite it"
    if os.path.lexists(output) and not force:  # before reading the data: fail fast
        raise OutputError(f"{output}: already exists; {hint}.")
    text = infer_contract(load_table(data), source=data, max_categories=max_categories)
    write_file(output, text, overwrite=force, hint=hint)
    click.echo(term(f"contract drafted: {output} (review the comments, then: audit validate {data} --contract {output})"))


@cli.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--target", required=True, help="The label column.")
@click.option("--sensitive", required=True, help="Sensitive feature columns, comma-separated (e.g. sex,race).")
@click.option("--model", type=click.Path(path_type=Path), help="A model file (.skops); adds fairness rules and explanations.")
@click.option("--positive-label", help="The favourable outcome (inferred when the target has two values).")
@click.option("--dir", "out_dir", type=click.Path(path_type=Path), default=".", show_default=True,
              help="Where to write audit.yaml and schemas/ (existing files are never overwritten).")
def init(data, target, sensitive, model, positive_label, out_dir):
    """Scaffold audit.yaml and a draft contract for DATA.

    Both are drafts to review, written so that `audit check` runs right after.
    """
    from .scaffold import scaffold

    result = scaffold(data, target=target, sensitive=sensitive, model=model, out_dir=out_dir,
                      positive_label=positive_label)
    click.echo(term(f"wrote {result.policy_path}"))
    click.echo(term(f"wrote {result.contract_path}"))
    for note in result.notes:
        click.echo(term(f"check: {note}"))
    click.echo(term(f"next: audit check {result.policy_path}"))


@cli.command()
@click.argument("results_file", metavar="RESULTS.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Where to write the HTML report (its folder must exist).")
@click.option("--templates", type=click.Path(path_type=Path),
              help="A folder of templates that override or extend the bundled ones, as report.templates in a policy.")
def report(results_file, output, templates):
    """Re-render the HTML report from a saved results.json.

    The report is a pure function of the results: re-rendering the results.json of a run
    gives the same report.html that run wrote.
    """
    from .report.rerender import rerender

    rerender(results_file, output, templates=templates)
    click.echo(term(f"report: {output}"))


@cli.command()
@click.argument("name", required=False)
def packs(name):
    """List the regulatory packs, or show the pack NAME.

    A policy applies a pack's rules and report sections with `extends: [NAME]` in
    audit.yaml; see docs/packs.md.
    """
    from .errors import PolicyError
    from .packs import available_packs, load_pack, pack_names

    if name is None:
        found = available_packs()
        width = max((len(pack.name) for pack in found), default=0) + 2
        for pack in found:
            click.echo(term(f"{pack.name:<{width}}{pack.title}"))
        click.echo("\nshow one: audit packs NAME · use one: extends: [NAME] in audit.yaml (docs/packs.md, docs/regulation-packs.md)")
        return
    if name not in pack_names():
        raise PolicyError(f"unknown pack '{name}'; available: {', '.join(pack_names())}.")
    pack = load_pack(name)
    click.echo(f"{pack.name}: {pack.title}\n\n{pack.description}\n\n{pack.framing}\n")
    click.echo("rules:")
    for rule in pack.rules:
        each = " (one per sensitive feature: id:feature)" if rule.get("for_each") else ""
        bounds = ", ".join(f"{k} {rule[k]}" for k in ("min", "max", "test", "statistical_test", "alpha", "severity") if k in rule)
        click.echo(f"  {rule['id']}{each}: {rule['metric']}, {bounds}")
    if pack.settings:
        click.echo(f"parameters (packs: {{{pack.name}: {{...}}}} in audit.yaml):")
        for key, spec in pack.settings.items():
            if spec.required:
                need = "required"
            elif isinstance(spec.default, (list, tuple)):
                need = f"default [{', '.join(map(str, spec.default))}]"
            else:
                need = f"default {spec.default!r}"
            choices = f" ({' | '.join(spec.choices)})" if spec.choices else ""
            click.echo(f"  {key}: {spec.type}{choices}, {need} — {spec.help}")
    click.echo(f"report sections: {', '.join(pack.sections)}")


@cli.command()
@click.argument("directory", default="audit-demo", type=click.Path(path_type=Path))
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for the split, the model and the bootstrap.")
@click.option("--with-champion", is_flag=True,
              help="Audit a deliberately worse candidate against the demo model as champion.")
@click.option("--quiet", "-q", is_flag=True, help="Print the verdict line only.")
def demo(directory, seed, with_champion, quiet):
    """Build the German Credit example in DIRECTORY and audit it.

    DIRECTORY defaults to ./audit-demo; other files in it are left alone.
    Writes the decoded data, a pandera contract, a trained scikit-learn model (.skops) and
    an audit.yaml, then runs `audit check` on them, with the outputs in
    DIRECTORY/audit-report. With --with-champion, a candidate retrained on data with a
    labelling error is compared with that model. Exit codes as for `check`.
    """
    from .demo import build_demo
    from .pipeline import run_audit
    from .report import write_outputs
    from .report.terminal import terminal_summary, verdict_line

    say = _stage_reporter(quiet)
    policy_path = build_demo(directory, seed=seed, progress=say, with_champion=with_champion)
    if not quiet:
        click.echo(term(f"demo built in {directory}/ (policy: {policy_path})"))
    result = run_audit(policy_path, seed=seed, progress=say, command=_command_line())
    results = result.to_dict()
    outputs = write_outputs(results, Path(directory) / "audit-report", hint="choose another DIRECTORY for the demo")
    click.echo(verdict_line(results) if quiet else terminal_summary(results, outputs=outputs))
    _exit(result.exit_code)


def _register_commands() -> None:
    """The commands that live beside the code they drive: signatures, the ledger, its history."""
    from .history._cli import history
    from .ledger._cli import ledger
    from .signing._cli import keygen, sign, verify

    for command in (keygen, sign, verify, ledger, history):
        cli.add_command(command)


def _record(ledger, results: dict, outputs, signer):
    """Append the audit to its ledger, after its outputs are written; None without a ledger."""
    if ledger is None:
        return None
    from .errors import LedgerError
    from .ledger._entry import record_audit

    try:
        return record_audit(ledger, results, outputs.sha256, signer=signer)
    except LedgerError as exc:
        raise LedgerError(f"{exc.message.rstrip('.')}; the outputs in {outputs.folder} were written but the audit "
                          "is NOT recorded in the ledger: rerun it once the ledger is reachable.") from None


def _command_line() -> str:
    """The command line as typed, for the provenance, with any password in a ledger URL hidden."""
    import shlex

    args = list(sys.argv[1:])
    for i, arg in enumerate(args):
        if arg.startswith("--ledger=") or (i > 0 and args[i - 1] == "--ledger"):
            from .ledger._url import redact

            args[i] = "--ledger=" + redact(arg[len("--ledger="):]) if arg.startswith("--ledger=") else redact(arg)
    return " ".join(shlex.quote(a) for a in ["audit", *args])


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``audit`` console script."""
    cli.main(args=argv, prog_name="audit")


if __name__ == "__main__":  # pragma: no cover
    main()
