"""The Träger's figures (issue 18): the Leistungsbericht every two years and the Jugendamt's quarterly questions.

:mod:`conversations.report.figures` counts, from the database, for one organisation and one year or quarter:
cases, hours, cancellations, confirmations, escalations, child-protection alerts, complaints, the
Meilensteingespräche's feedback and the reminders. Only aggregates: no name, no text, no reference leaves
it, and a count from 1 to 4 is shown as "< 5" wherever it is shown (:mod:`conversations.report.figures`
``Count``/``Measure``). The files (XLSX, PDF) and the wording are in :mod:`bot.report_files`.
"""
