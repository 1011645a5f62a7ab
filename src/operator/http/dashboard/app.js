// The operator dashboard: plain browser JavaScript, no build step, no third-party code.
// Every value from the API is put into the page as text (never as HTML), and the token lives in
// sessionStorage only, so it is gone when the tab closes.

const $ = (selector) => document.querySelector(selector);
const session = {
  get token() {
    return sessionStorage.getItem('bron.token');
  },
  get name() {
    return sessionStorage.getItem('bron.name') || '';
  },
  role: null,
};

/** An element with attributes and children (strings become text nodes). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false)
      element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined) element.append(child instanceof Node ? child : String(child));
  return element;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${session.token}` };
  if (session.name) headers['x-operator-name'] = session.name;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/admin/api/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    signOut('Your token was not accepted.');
    throw new ApiError(401, data.error);
  }
  if (!response.ok) throw new ApiError(response.status, data.error || `HTTP ${response.status}`);
  return data;
}

const when = (iso) => (iso ? iso.replace('T', ' ').slice(0, 19) : '–');

function flash(message, kind = 'info') {
  const element = $('#flash');
  element.textContent = message;
  element.className = kind;
}

/** Resolves true when the operator confirms in the dialog. */
function confirmAction(text) {
  const dialog = $('#confirm');
  $('#confirm-text').textContent = text;
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }),
  );
}

// ---- overview -------------------------------------------------------------------------------

function statCard(label, value, id) {
  return h(
    'div',
    { class: 'card stat', 'data-stat': id },
    h('span', { class: 'value' }, value),
    h('span', { class: 'label' }, label),
  );
}

async function renderStats() {
  const stats = await api('stats');
  const latency = stats.deliveryLatencyLastHour;
  $('#stats').replaceChildren(
    statCard('accepted, last hour', stats.acceptedLastHour, 'accepted'),
    statCard('processing backlog', stats.processingBacklog, 'backlog'),
    statCard('waiting for delivery', stats.outboundPending, 'pending'),
    statCard('delivered, last hour', stats.deliveredLastHour, 'delivered'),
    statCard('delivery latency p95', latency ? `${latency.p95} s` : '–', 'latency'),
    statCard('error queue', stats.errorQueue, 'errors'),
    statCard(
      'processing error queue',
      stats.processingErrors > 0
        ? h('a', { href: '#processing-errors' }, stats.processingErrors)
        : stats.processingErrors,
      'processing-errors',
    ),
  );
}

/** A line chart of accepted and delivered messages per bucket, drawn as SVG. */
async function renderChart() {
  const points = await api('stats/series?minutes=60&bucketSeconds=60');
  const width = 720,
    height = 200,
    left = 40,
    bottom = 24,
    top = 10;
  const max = Math.max(1, ...points.map((p) => Math.max(p.accepted, p.delivered)));
  const x = (i) => left + (i * (width - left - 10)) / Math.max(1, points.length - 1);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = (tag, attributes, ...children) => {
    const element = document.createElementNS(ns, tag);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
    for (const child of children) element.append(child);
    return element;
  };
  const line = (key, cls) =>
    svg('polyline', {
      class: cls,
      points: points.map((p, i) => `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' '),
      'data-series': key,
    });
  const label = (i) => (points[i] ? new Date(points[i].start).toISOString().slice(11, 16) : '');
  const chart = svg(
    'svg',
    {
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': 'accepted and delivered messages per minute',
      id: 'chart-svg',
    },
    svg('line', { class: 'axis', x1: left, y1: y(0), x2: width - 10, y2: y(0) }),
    svg('line', { class: 'axis', x1: left, y1: top, x2: left, y2: y(0) }),
    svg('text', { x: left - 6, y: top + 8, 'text-anchor': 'end' }, String(max)),
    svg('text', { x: left - 6, y: y(0), 'text-anchor': 'end' }, '0'),
    svg('text', { x: left, y: height - 6 }, label(0)),
    svg('text', { x: width - 10, y: height - 6, 'text-anchor': 'end' }, label(points.length - 1)),
    line('accepted', 'accepted'),
    line('delivered', 'delivered'),
  );
  const total = (key) => points.reduce((sum, p) => sum + p[key], 0);
  $('#chart').replaceChildren(
    chart,
    h(
      'p',
      { class: 'legend' },
      h('span', { class: 'accepted' }, `■ accepted (${total('accepted')})`),
      ' ',
      h('span', { class: 'delivered' }, `■ delivered (${total('delivered')})`),
    ),
  );
}

function healthCell(health) {
  const text =
    health.state === 'idle' ? 'idle' : `${health.state} · ${health.failedAttempts}/${health.attempts} failed (15 min)`;
  return h('td', { class: `health ${health.state}`, title: health.lastError || '' }, text);
}

async function renderInstitutions() {
  const institutions = await api('overview');
  const rows = institutions.map((i) => {
    const actions = h(
      'td',
      { class: 'actions' },
      i.endpointUrl
        ? h('button', { type: 'button', onclick: () => ping(i).catch((e) => flash(e.message, 'error')) }, 'Ping')
        : null,
      h(
        'button',
        { type: 'button', class: 'operator', onclick: () => togglePause(i).catch((e) => flash(e.message, 'error')) },
        i.paused ? 'Resume' : 'Pause',
      ),
    );
    return h(
      'tr',
      { 'data-oin': i.oin },
      h('td', {}, i.oin),
      h('td', {}, i.name),
      h('td', {}, i.brins.join(', ')),
      h('td', { 'data-col': 'queued' }, i.queued),
      h('td', { 'data-col': 'in-delivery' }, i.inDelivery),
      h('td', { 'data-col': 'delivered' }, i.deliveredLastHour),
      h(
        'td',
        { 'data-col': 'errors' },
        i.errorQueued > 0 ? h('a', { href: `#errors?institution=${i.oin}` }, i.errorQueued) : '0',
      ),
      h('td', { 'data-col': 'paused' }, i.paused ? 'paused' : ''),
      healthCell(i.health),
      actions,
    );
  });
  $('#institutions tbody').replaceChildren(...rows);
}

async function ping(institution) {
  flash(`Pinging ${institution.endpointUrl}…`);
  const result = await api(`institutions/${institution.oin}/ping`, { method: 'POST' });
  // The read role gets only healthy or not: no status, latency or reason.
  const detail = result.httpStatus !== undefined;
  const healthy = detail ? `healthy, HTTP ${result.httpStatus} in ${result.latencyMs} ms` : 'healthy';
  const unhealthy = detail
    ? `${result.reachable ? 'unhealthy' : 'unreachable'} (${result.error})`
    : `not healthy (${result.error})`;
  flash(`${institution.oin}: ${result.healthy ? healthy : unhealthy}`, result.healthy ? 'info' : 'error');
}

async function togglePause(institution) {
  const verb = institution.paused ? 'resume' : 'pause';
  if (
    !(await confirmAction(
      `${verb === 'pause' ? 'Pause' : 'Resume'} deliveries to ${institution.name} (${institution.oin})?`,
    ))
  )
    return;
  const result = await api(`institutions/${institution.oin}/${verb}`, { method: 'POST' });
  flash(
    verb === 'pause' ? `Paused ${institution.oin}.` : `Resumed ${institution.oin}; ${result.queued} message(s) queued.`,
  );
  await renderInstitutions();
}

async function renderOverview() {
  await Promise.all([renderStats(), renderChart(), renderInstitutions()]);
}

// ---- error queue ----------------------------------------------------------------------------

function currentFilter() {
  const data = new FormData($('#error-filter'));
  return Object.fromEntries([...data.entries()].filter(([, value]) => String(value).trim() !== ''));
}

function errorRow(entry) {
  return h(
    'tr',
    { 'data-id': entry.id },
    h('td', {}, h('a', { href: `#trace?ref=o${entry.id}` }, entry.id)),
    h('td', {}, entry.institutionOin),
    h('td', {}, entry.brin || '–'),
    h('td', {}, entry.operation),
    h('td', {}, entry.attempts),
    h('td', {}, when(entry.createdAt)),
    h('td', { class: 'error-text' }, entry.lastError || ''),
    h(
      'td',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'operator',
          'data-action': 'replay',
          onclick: () => act('replay', { ids: [String(entry.id)] }, `message ${entry.id}`),
        },
        'Replay',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'operator danger',
          'data-action': 'purge',
          onclick: () => act('purge', { ids: [String(entry.id)] }, `message ${entry.id}`),
        },
        'Purge',
      ),
    ),
  );
}

async function renderErrors() {
  const query = new URLSearchParams(currentFilter());
  const entries = await api(`errors?${query}`);
  $('#errors tbody').replaceChildren(...entries.map(errorRow));
  $('#errors-empty').hidden = entries.length > 0;
}

/**
 * A bulk action: a dry run first says how many, the operator confirms, then it happens (and is
 * audited). Resolves true when it happened.
 */
async function previewConfirmAct(path, filter, { verb, done, consequence, what }) {
  const preview = await api(path, { method: 'POST', body: { ...filter, dryRun: true } });
  if (preview.count === 0) {
    flash(`Nothing to ${verb}.`);
    return false;
  }
  const capitalised = verb[0].toUpperCase() + verb.slice(1);
  if (!(await confirmAction(`${capitalised} ${preview.count} message(s) (${what})? ${consequence}`))) {
    flash('Cancelled.');
    return false;
  }
  const result = await api(path, { method: 'POST', body: filter });
  flash(`${done} ${result.count} message(s).`);
  return true;
}

/** Replay or purge error-queue messages. */
function act(action, filter, what) {
  const consequence =
    action === 'purge' ? 'They leave delivery for good.' : 'They are delivered again with their original MessageID.';
  return previewConfirmAct(`errors/${action}`, filter, {
    verb: action,
    done: action === 'replay' ? 'Replayed' : 'Purged',
    consequence,
    what,
  })
    .then((happened) => (happened ? renderErrors() : undefined))
    .catch((error) => flash(error.message, 'error'));
}

function actOnMatching(action) {
  const filter = currentFilter();
  const scoped = Object.keys(filter).length > 0;
  const what = scoped
    ? Object.entries(filter)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : 'the whole error queue';
  return act(action, scoped ? filter : { all: true }, what);
}

// ---- processing error queue -----------------------------------------------------------------

function processingFilter() {
  const sender = String(new FormData($('#processing-filter')).get('sender') || '').trim();
  return sender ? { sender } : {};
}

function processingErrorRow(entry) {
  return h(
    'tr',
    { 'data-id': entry.messageId },
    h('td', {}, h('a', { href: `#trace?ref=${entry.messageId}` }, entry.messageId)),
    h('td', {}, entry.contract),
    h('td', {}, entry.operation),
    h('td', {}, entry.senderOin),
    h('td', {}, entry.brin || '–'),
    h('td', {}, when(entry.receivedAt)),
    h('td', {}, when(entry.failedAt)),
    h('td', { class: 'error-text' }, entry.failure || ''),
    h(
      'td',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'operator',
          'data-action': 'replay',
          onclick: () => replayProcessing({ ids: [String(entry.messageId)] }, `message ${entry.messageId}`),
        },
        'Replay',
      ),
    ),
  );
}

async function renderProcessingErrors() {
  const entries = await api(`processing-errors?${new URLSearchParams(processingFilter())}`);
  $('#processing-errors tbody').replaceChildren(...entries.map(processingErrorRow));
  $('#processing-count').textContent = `(${entries.length})`;
  $('#processing-errors-empty').hidden = entries.length > 0;
}

/** Makes processing-error-queue messages due again: the broker processes them within seconds. */
function replayProcessing(filter, what) {
  return previewConfirmAct('processing-errors/replay', filter, {
    verb: 'replay',
    done: 'Replayed',
    consequence: 'They are processed again within seconds.',
    what,
  })
    .then((happened) => (happened ? renderProcessingErrors() : undefined))
    .catch((error) => flash(error.message, 'error'));
}

function replayProcessingMatching() {
  const filter = processingFilter();
  return filter.sender
    ? replayProcessing(filter, `sender ${filter.sender}`)
    : replayProcessing({ all: true }, 'the whole processing error queue');
}

// ---- quality checks -------------------------------------------------------------------------

function qualityFilter() {
  const data = new FormData($('#quality-filter'));
  return Object.fromEntries([...data.entries()].map(([k, v]) => [k, String(v).trim()]).filter(([, v]) => v !== ''));
}

async function renderQuality() {
  const [overview, signals] = await Promise.all([
    api('quality'),
    api(`quality/signals?${new URLSearchParams(qualityFilter())}`),
  ]);
  $('#quality-runs tbody').replaceChildren(
    ...overview.runs.map((r) =>
      h(
        'tr',
        { 'data-id': r.id },
        h('td', {}, r.id),
        h('td', {}, r.trigger),
        h('td', {}, r.actor || '–'),
        h('td', {}, r.checkDate),
        h('td', {}, when(r.startedAt)),
        h('td', {}, r.pupils),
        h('td', {}, r.signals),
        h('td', {}, r.notified),
      ),
    ),
  );
  $('#quality-counts tbody').replaceChildren(
    ...overview.counts.map((c) =>
      h(
        'tr',
        { 'data-brin': c.brin, 'data-code': c.code },
        h('td', {}, c.brin),
        h('td', {}, c.code),
        h('td', {}, h('a', { href: `#quality?brin=${c.brin}&code=${c.code}` }, c.count)),
      ),
    ),
  );
  $('#quality-counts-empty').hidden = overview.counts.length > 0;
  $('#quality-signals tbody').replaceChildren(
    ...signals.map((q) =>
      h(
        'tr',
        { 'data-code': q.code },
        h('td', {}, q.brin),
        h('td', {}, q.inschrijvingvolgnummer),
        h('td', {}, q.maskedPgn),
        h('td', {}, q.code),
        h('td', {}, q.omschrijving),
        h('td', {}, q.sleutelgegevens.map((k) => `${k.naam} ${k.waarde}`).join(', ')),
        h('td', {}, when(q.firstSeen)),
        h('td', {}, when(q.lastSeen)),
      ),
    ),
  );
  $('#quality-signals-empty').hidden = signals.length > 0;
}

async function runQualityNow() {
  if (
    !(await confirmAction(
      'Run the quality checks over the whole register now? Every school with signals receives them.',
    ))
  )
    return;
  flash('Running the quality checks…');
  const run = await api('quality/run', { method: 'POST' });
  flash(
    `Quality run ${run.runId}: ${run.pupils} pupil(s) checked, ${run.signals} signal(s), ${run.notified} school(s) told.`,
  );
  await renderQuality();
}

// ---- trace ----------------------------------------------------------------------------------

function traceBlock(trace) {
  const title =
    trace.inboundId !== null
      ? `Message ${trace.inboundId} · ${trace.operation} from ${trace.senderOin} · BRIN ${trace.brin || '–'} · outcome ${trace.outcome || 'not processed yet'}`
      : `Outbound ${trace.outboundIds.join(', ')} · BRIN ${trace.brin || '–'}`;
  return h(
    'div',
    { class: 'card trace' },
    h('h2', {}, title),
    trace.pupils.length > 0 ? h('p', { class: 'muted' }, `pupil ${trace.pupils.join(', ')}`) : null,
    h(
      'ol',
      { class: 'timeline' },
      trace.events.map((event) =>
        h(
          'li',
          { class: `step ${event.step}`, 'data-step': event.step },
          h('time', {}, event.at ? when(event.at) : '…'),
          h('strong', {}, event.step),
          h('span', { class: 'push' }, event.outboundId !== undefined ? `o${event.outboundId}` : ''),
          h('span', {}, event.detail),
        ),
      ),
    ),
  );
}

async function runTrace(fields) {
  let traces;
  if (fields.ref) traces = [await api(`trace/message/${encodeURIComponent(fields.ref)}`)];
  else if (fields.brin) traces = await api(`trace/brin/${encodeURIComponent(fields.brin)}`);
  else if (fields.pupil) traces = await api('trace/pupil', { method: 'POST', body: { pgn: fields.pupil } });
  else return;
  $('#traces').replaceChildren(
    ...(traces.length > 0 ? traces.map(traceBlock) : [h('p', { class: 'muted' }, 'No messages found.')]),
  );
}

// ---- audit ----------------------------------------------------------------------------------

async function renderAudit() {
  const entries = await api('audit?limit=100');
  $('#audit tbody').replaceChildren(
    ...entries.map((e) =>
      h(
        'tr',
        { 'data-action': e.action },
        h('td', {}, when(e.at)),
        h('td', {}, e.actor),
        h('td', {}, e.action),
        h('td', {}, e.affected),
        h('td', {}, e.dryRun ? 'yes' : ''),
        h('td', { class: 'target' }, JSON.stringify(e.target)),
      ),
    ),
  );
}

// ---- prior-education subscriptions ---------------------------------------------------------

async function renderSubscriptions() {
  const data = new FormData($('#subscriptions-filter'));
  const filter = Object.fromEntries(
    [...data.entries()].map(([k, v]) => [k, String(v).trim()]).filter(([, v]) => v !== ''),
  );
  const rows = await api(`subscriptions?${new URLSearchParams(filter)}`);
  $('#subscriptions tbody').replaceChildren(
    ...rows.map((s) =>
      h(
        'tr',
        { 'data-id': s.id, 'data-state': s.state },
        h('td', {}, s.id),
        h('td', {}, s.institutionOin),
        h('td', {}, s.brin),
        h('td', {}, s.maskedPgn),
        h('td', {}, when(s.startedAt)),
        h('td', {}, when(s.endsAt)),
        h('td', {}, s.state),
        h('td', {}, s.endedAt ? when(s.endedAt) : '–'),
      ),
    ),
  );
  $('#subscriptions-empty').hidden = rows.length > 0;
}

// ---- navigation and sign-in -----------------------------------------------------------------

const VIEWS = {
  overview: renderOverview,
  errors: renderErrors,
  'processing-errors': renderProcessingErrors,
  quality: renderQuality,
  subscriptions: renderSubscriptions,
  trace: async () => undefined,
  audit: renderAudit,
};

function parseHash() {
  const [view, query] = location.hash.slice(1).split('?');
  return { view: VIEWS[view] ? view : 'overview', params: new URLSearchParams(query || '') };
}

async function show() {
  const { view, params } = parseHash();
  for (const name of Object.keys(VIEWS)) $(`#view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('active', link.dataset.view === view);
  if (view === 'errors')
    for (const [key, value] of params) {
      const input = $(`#error-filter [name="${key}"]`);
      if (input) input.value = value;
    }
  if (view === 'quality')
    for (const name of ['institution', 'brin', 'code'])
      $(`#quality-filter [name="${name}"]`).value = params.get(name) || '';
  if (view === 'subscriptions' && params.get('institution'))
    $('#subscriptions-filter [name="institution"]').value = params.get('institution');
  if (view === 'processing-errors' && params.get('sender'))
    $('#processing-filter [name="sender"]').value = params.get('sender');
  try {
    if (view === 'trace' && params.get('ref')) {
      $('#trace-form [name="ref"]').value = params.get('ref');
      await runTrace({ ref: params.get('ref') });
    } else await VIEWS[view]();
  } catch (error) {
    if (error.status !== 401) flash(error.message, 'error');
  }
}

function signOut(message) {
  sessionStorage.removeItem('bron.token');
  session.role = null;
  $('#app').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message || '';
}

async function signIn() {
  const caller = await api('whoami');
  session.role = caller.role;
  document.body.dataset.role = caller.role;
  $('#whoami').textContent = `${caller.actor}${caller.role === 'read' ? ' · read-only' : ''}`;
  $('#login').hidden = true;
  $('#app').hidden = false;
  await show();
}

function wire() {
  $('#login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    sessionStorage.setItem('bron.token', $('#login-token').value.trim());
    sessionStorage.setItem('bron.name', $('#login-name').value.trim());
    $('#login-token').value = '';
    await signIn().catch((error) => {
      if (error.status !== 401) $('#login-error').textContent = error.message;
    });
  });
  $('#logout').addEventListener('click', () => signOut());
  $('#error-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    renderErrors().catch((e) => flash(e.message, 'error'));
  });
  $('#replay-matching').addEventListener('click', () => actOnMatching('replay'));
  $('#purge-matching').addEventListener('click', () => actOnMatching('purge'));
  $('#processing-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    renderProcessingErrors().catch((e) => flash(e.message, 'error'));
  });
  $('#replay-processing-matching').addEventListener('click', () => replayProcessingMatching());
  $('#quality-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    renderQuality().catch((e) => flash(e.message, 'error'));
  });
  $('#subscriptions-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    renderSubscriptions().catch((e) => flash(e.message, 'error'));
  });
  $('#quality-run').addEventListener('click', () => runQualityNow().catch((e) => flash(e.message, 'error')));
  $('#trace-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(event.target));
    event.target.elements.pupil.value = ''; // the PGN does not stay on screen
    runTrace(
      Object.fromEntries(
        Object.entries(fields)
          .map(([k, v]) => [k, String(v).trim()])
          .filter(([, v]) => v !== ''),
      ),
    ).catch((e) => flash(e.message, 'error'));
  });
  window.addEventListener('hashchange', () => {
    flash('');
    show();
  });
  // The overview keeps itself current while it is on screen.
  setInterval(() => {
    if (!$('#app').hidden && parseHash().view === 'overview' && !document.hidden)
      renderOverview().catch(() => undefined);
  }, 5000);
}

wire();
if (session.token) signIn().catch(() => signOut());
else signOut();
