"""Data protection as a job: retention periods, deletion on schedule, the periods in the privacy notices.

``retention`` holds the periods as pure rules, ``purge`` deletes what is due (a periodic task and
``wegbegleiter privacy purge``), ``notice`` words the periods for the privacy notices.
"""

from conversations.privacy import purge  # noqa: F401  (registers the periodic task)
