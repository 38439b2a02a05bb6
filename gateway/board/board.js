// The schedule board: reads the schedule and the latest reconciliation report through /graphql with the pasted token,
// draws one row per platform and room, bookings as bars coloured by status, discrepancies flagged on their bars. Room
// blocks (seats a platform took for local use) come from scheduleBlocks over the same range and are drawn apart from
// the bookings: a hatched lane "blocked for local use" under the room, with each block's reason and externalRef.
'use strict';
(function () {
  var TOKEN_KEY = 'hub-board-token';
  var CST_OFFSET_MS = 8 * 3600 * 1000;
  var DAY_MS = 24 * 3600 * 1000;
  var TRACK_PX = 26;
  var QUERY =
    'query Board($from: DateTime!, $to: DateTime!) {' +
    ' schedule(from: $from, to: $to) { id status role seats startsAt endsAt holdExpiresAt' +
    '  room { id name venue { name platform { id name } } } project { id code status } }' +
    ' latestReconciliationReport { id from to generatedAt discrepancies { kind projectId projectCode bookingId seatId ledgerEntryId detail resolution } } }';

  var BLOCKS_QUERY =
    'query BoardBlocks($from: DateTime!, $to: DateTime!) {' +
    ' scheduleBlocks(from: $from, to: $to) { id seats startsAt endsAt reason externalRef' +
    '  room { id name venue { name platform { id name } } } } }';

  var form = document.getElementById('controls');
  var tokenInput = document.getElementById('token');
  var dateInput = document.getElementById('date');
  var viewInput = document.getElementById('view');
  var statusLine = document.getElementById('status');
  var board = document.getElementById('board');

  tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || '';
  var params = new URLSearchParams(location.search);
  dateInput.value = params.get('date') || new Date(Date.now() + CST_OFFSET_MS).toISOString().slice(0, 10);
  if (params.get('view') === 'week') viewInput.value = 'week';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function say(message, isError) {
    statusLine.textContent = message;
    statusLine.className = isError ? 'error' : '';
  }
  function cst(iso) {
    return new Date(new Date(iso).getTime() + CST_OFFSET_MS).toISOString().slice(5, 16).replace('T', ' ');
  }
  /** The shown range: a day or a week from midnight in China Standard Time. */
  function range() {
    var from = new Date(dateInput.value + 'T00:00:00+08:00');
    var days = viewInput.value === 'week' ? 7 : 1;
    return { from: from, to: new Date(from.getTime() + days * DAY_MS), days: days };
  }

  async function load(event) {
    if (event) event.preventDefault();
    var token = tokenInput.value.trim();
    if (!token)
      return say(
        'Paste a PROVINCIAL_ADMIN token first (npm run --silent token -- --role PROVINCIAL_ADMIN --platform 410000).',
        true,
      );
    sessionStorage.setItem(TOKEN_KEY, token);
    var shown = range();
    say('Loading…');
    var body;
    var blocksBody;
    try {
      // The blocks are a query of their own: if it fails, the bookings are still shown.
      var answers = await Promise.all([
        post(token, QUERY, shown),
        post(token, BLOCKS_QUERY, shown).catch(function (error) {
          return { errors: [{ message: error.message }] };
        }),
      ]);
      body = answers[0];
      blocksBody = answers[1];
    } catch (error) {
      return say('The gateway did not answer: ' + error.message, true);
    }
    if (body.errors && body.errors.length)
      return say(
        body.errors
          .map(function (e) {
            return e.message;
          })
          .join('; '),
        true,
      );
    var blocksFailed = !blocksBody.data || (blocksBody.errors && blocksBody.errors.length);
    var blocks = blocksFailed ? [] : blocksBody.data.scheduleBlocks;
    render(shown, body.data.schedule, blocks, body.data.latestReconciliationReport);
    say(
      body.data.schedule.length +
        ' bookings and ' +
        (blocksFailed ? '? (the blocks could not be read: ' + blocksBody.errors[0].message + ')' : blocks.length) +
        ' blocks from ' +
        cst(shown.from.toISOString()) +
        ' (UTC+8), ' +
        shown.days +
        ' day(s).',
      Boolean(blocksFailed),
    );
  }

  async function post(token, query, shown) {
    var response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({
        query: query,
        variables: { from: shown.from.toISOString(), to: shown.to.toISOString() },
      }),
    });
    return response.json();
  }

  /** Left and width of a bar over the shown range, in percent. */
  function place(node, shown, startsAt, endsAt) {
    var span = shown.to.getTime() - shown.from.getTime();
    var start = Math.max(new Date(startsAt).getTime(), shown.from.getTime());
    var end = Math.min(new Date(endsAt).getTime(), shown.to.getTime());
    node.style.left = (100 * (start - shown.from.getTime())) / span + '%';
    node.style.width = (100 * (end - start)) / span + '%';
    return { start: start, end: end };
  }

  /** The room's blocks, apart from its bookings: a lane of their own, each bar saying why and under which reference. */
  function blockRow(roomBlocks, shown, step, span) {
    var row = el('div', 'row blocks-row');
    row.appendChild(el('div', 'room block-label', 'blocked for local use'));
    var lane = el('div', 'lane block-lane');
    lane.style.backgroundSize = (100 * step) / span + '% 100%';
    var trackEnds = [];
    roomBlocks
      .sort(function (x, y) {
        return x.startsAt.localeCompare(y.startsAt) || x.id.localeCompare(y.id);
      })
      .forEach(function (k) {
        var bar = el('div', 'block');
        bar.dataset.blockId = k.id;
        if (k.externalRef) bar.dataset.externalRef = k.externalRef;
        var at = place(bar, shown, k.startsAt, k.endsAt);
        var track = trackEnds.findIndex(function (trackEnd) {
          return trackEnd <= at.start;
        });
        if (track === -1) track = trackEnds.length;
        trackEnds[track] = at.end;
        bar.style.top = 5 + track * TRACK_PX + 'px';
        bar.appendChild(el('span', 'block-seats', k.seats + ' seats'));
        bar.appendChild(el('span', 'block-reason', k.reason));
        if (k.externalRef) bar.appendChild(el('span', 'block-ref', k.externalRef));
        bar.title = [
          'Blocked for local use · ' + k.seats + ' seats',
          k.reason,
          'externalRef: ' + (k.externalRef || '—'),
          cst(k.startsAt) + ' – ' + cst(k.endsAt) + ' (UTC+8)',
        ].join('\n');
        lane.appendChild(bar);
      });
    lane.style.height = 8 + Math.max(1, trackEnds.length) * TRACK_PX + 'px';
    row.appendChild(lane);
    return row;
  }

  function render(shown, bookings, blocks, report) {
    var discrepancies = report ? report.discrepancies : [];
    var byBooking = new Map();
    var byProject = new Map();
    discrepancies.forEach(function (d) {
      // A discrepancy about a booking flags that bar; one about a whole project (committee, ledger) flags its bars.
      var map = d.bookingId ? byBooking : byProject;
      var key = d.bookingId || d.projectId;
      if (!key) return;
      if (!map.has(key)) map.set(key, []);
      map.get(key).push(d);
    });

    var platforms = new Map();
    function roomEntryOf(room) {
      var platform = room.venue.platform;
      if (!platforms.has(platform.id)) platforms.set(platform.id, { platform: platform, rooms: new Map() });
      var rooms = platforms.get(platform.id).rooms;
      if (!rooms.has(room.id)) rooms.set(room.id, { room: room, bookings: [], blocks: [] });
      return rooms.get(room.id);
    }
    bookings.forEach(function (b) {
      roomEntryOf(b.room).bookings.push(b);
    });
    blocks.forEach(function (k) {
      roomEntryOf(k.room).blocks.push(k);
    });

    board.replaceChildren();
    var span = shown.to.getTime() - shown.from.getTime();
    var ticks = el('div', 'ticks');
    ticks.appendChild(el('span', '', 'platform / room'));
    var scale = el('div', 'scale');
    var step = shown.days === 1 ? 3 * 3600 * 1000 : DAY_MS;
    for (var t = 0; t < span; t += step) {
      var tick = el(
        'span',
        '',
        cst(new Date(shown.from.getTime() + t).toISOString()).slice(
          shown.days === 1 ? 6 : 0,
          shown.days === 1 ? 11 : 5,
        ),
      );
      tick.style.left = (100 * t) / span + '%';
      scale.appendChild(tick);
    }
    ticks.appendChild(scale);
    board.appendChild(ticks);
    if (platforms.size === 0) board.appendChild(el('p', 'empty', 'No bookings or blocks in this range.'));

    Array.from(platforms.values())
      .sort(function (a, b) {
        return a.platform.id.localeCompare(b.platform.id);
      })
      .forEach(function (entry) {
        var section = el('section', 'platform');
        section.dataset.platformId = entry.platform.id;
        section.appendChild(el('h2', '', entry.platform.name + ' · ' + entry.platform.id));
        Array.from(entry.rooms.values())
          .sort(function (a, b) {
            return a.room.id.localeCompare(b.room.id);
          })
          .forEach(function (roomEntry) {
            var row = el('div', 'row');
            row.dataset.roomId = roomEntry.room.id;
            row.appendChild(el('div', 'room', roomEntry.room.venue.name + ' ' + roomEntry.room.name));
            var lane = el('div', 'lane');
            lane.style.backgroundSize = (100 * step) / span + '% 100%';
            // Secondary bookings share a room by seats, so bars may overlap in time: each takes the first free track.
            var trackEnds = [];
            roomEntry.bookings.sort(function (x, y) {
              return x.startsAt.localeCompare(y.startsAt) || x.id.localeCompare(y.id);
            });
            roomEntry.bookings.forEach(function (b) {
              var flags = (byBooking.get(b.id) || []).concat(byProject.get(b.project.id) || []);
              var bar = el('div', 'bar status-' + b.status + (flags.length ? ' flagged' : ''));
              var at = place(bar, shown, b.startsAt, b.endsAt);
              var start = at.start;
              var end = at.end;
              var track = trackEnds.findIndex(function (trackEnd) {
                return trackEnd <= start;
              });
              if (track === -1) track = trackEnds.length;
              trackEnds[track] = end;
              bar.dataset.bookingId = b.id;
              bar.dataset.status = b.status;
              bar.style.top = 5 + track * TRACK_PX + 'px';
              if (flags.length) bar.appendChild(el('span', 'flag', '⚠'));
              bar.appendChild(document.createTextNode(b.project.code));
              bar.title = [
                b.project.code + ' · ' + b.role + ' · ' + b.seats + ' seats · ' + b.status,
                cst(b.startsAt) + ' – ' + cst(b.endsAt) + ' (UTC+8)',
              ]
                .concat(
                  flags.map(function (d) {
                    return d.kind + ': ' + d.detail;
                  }),
                )
                .join('\n');
              lane.appendChild(bar);
            });
            lane.style.height = 8 + Math.max(1, trackEnds.length) * TRACK_PX + 'px';
            row.appendChild(lane);
            section.appendChild(row);
            if (roomEntry.blocks.length) {
              var blockLane = blockRow(roomEntry.blocks, shown, step, span);
              blockLane.dataset.roomId = roomEntry.room.id;
              section.appendChild(blockLane);
            }
          });
        board.appendChild(section);
      });

    var summary = document.getElementById('report-summary');
    var list = document.getElementById('discrepancies');
    list.replaceChildren();
    if (!report) {
      summary.textContent = 'No reconciliation has completed yet; run one with runReconciliation.';
      return;
    }
    summary.textContent =
      'Report ' +
      report.id +
      ' of ' +
      cst(report.from) +
      ' – ' +
      cst(report.to) +
      ', generated ' +
      cst(report.generatedAt) +
      ' (UTC+8): ' +
      discrepancies.length +
      ' discrepancies.';
    discrepancies.forEach(function (d) {
      var item = el('li');
      item.dataset.kind = d.kind;
      if (d.bookingId) item.dataset.bookingId = d.bookingId;
      item.appendChild(el('span', 'kind', d.kind));
      item.appendChild(el('strong', '', (d.projectCode || d.projectId || '') + ' '));
      item.appendChild(document.createTextNode(d.detail));
      list.appendChild(item);
    });
  }

  form.addEventListener('submit', load);
  document.getElementById('forget').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY);
    tokenInput.value = '';
    say('Token forgotten.');
  });
  if (tokenInput.value) load();
})();
