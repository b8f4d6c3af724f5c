"""`wegbegleiter web`: the staff console and the signed links alone, without the chat networks.

Messages the console queues (answers to complaints, sign-in links by email) are delivered by the
outbox of a running `wegbegleiter run`; `run` itself serves the same pages on HTTP_LISTEN.
"""

from __future__ import annotations

import click

from bot.cli import cli, fail_cleanly, load_app
from bot.cli_language import t


@cli.command("web")
@fail_cleanly
def web_command() -> None:
    """Serve the staff console (and the links in emails) on HTTP_LISTEN."""
    import asyncio
    import contextlib
    import signal

    from bot import web

    app = load_app()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            runner = await web.start(app)
        except OSError as exc:
            raise click.ClickException(t("cannot listen on {listen} ({problem}): set HTTP_LISTEN (and "
                                         "PUBLIC_BASE_URL) to a free port", listen=app.settings.http_listen,
                                         problem=exc.strerror or exc)) from None
        click.echo(t("The console is at {url}/ (sign in with /web in the chat).",
                     url=app.settings.public_base_url.rstrip("/")))
        await stop.wait()
        await runner.cleanup()

    asyncio.run(serve())
