"""`wegbegleiter web`: the staff console and the signed links alone, without the chat networks.

Messages the console queues (answers to complaints, sign-in links by email) are delivered by the
outbox of a running `wegbegleiter run`; `run` itself serves the same pages on HTTP_LISTEN.
"""

from __future__ import annotations

import click

from bot.cli import cli, fail_cleanly, load_app


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
        runner = await web.start(app)
        click.echo(f"The console is at {app.settings.public_base_url.rstrip('/')}/ (sign in with /web in the chat).")
        await stop.wait()
        await runner.cleanup()

    asyncio.run(serve())
