"""Watch-lists (KEP-3157, client-go's WatchListClient): a full listing streamed as a watch.

A watch-list is a WATCH with ``sendInitialEvents=true`` and
``resourceVersionMatch=NotOlderThan`` (built by :func:`..rest.request.watch_list`): the
server first sends the current state as ``ADDED`` events, then a bookmark annotated
``k8s.io/initial-events-end`` (:attr:`..watch.event.Bookmark.initial_events_end`) at the
listing's resourceVersion, then the changes after it. Neither the server nor the client
ever holds a whole page of objects, which is what cuts the peak memory of large lists.

Informers (:mod:`..cache.watcher`) and ``list_all(watch_list=True)`` use it; both fall
back to paged LISTs when :func:`refuses_watch_list` says the server does not serve it.
"""

from __future__ import annotations

from ..errors import ApiError


def refuses_watch_list(error: BaseException) -> bool:
    """Whether a failed watch-list request means the server does not serve watch-lists.

    Servers before 1.27 (and newer ones with the WatchList feature off) validate the
    options and answer 422 Invalid (kube-apiserver 1.20: ``resourceVersionMatch is
    forbidden for watch``); a 400 is taken the same way. Nothing else a server answers
    means "unsupported": other errors are retried like any watch failure.
    """
    return isinstance(error, ApiError) and error.status in (400, 422)
