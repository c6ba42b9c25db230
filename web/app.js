/*
 * app.js: hushd's web page, on top of the overview the daemon renders.
 *
 * The page reads without this script (totals and the device table come
 * from the server); the script adds the 24-hour chart, the device list
 * with countries, a device's own page with its live events, the "why?"
 * box and the actions (pause, resume, list modes, allow, block, update).
 *
 * Rules kept here: no framework, no build step, nothing from another
 * origin (the Content-Security-Policy forbids it anyway); data reaches the
 * DOM only through textContent and attributes, never innerHTML; every
 * POST carries the session's CSRF token; one EventSource for live events.
 */
'use strict';

(function () {
	const csrfMeta = document.querySelector('meta[name="csrf-token"]');
	const csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
	const SVG = 'http://www.w3.org/2000/svg';
	const LIVE_KEEP = 60;		/* live events kept on the page */
	const REFRESH_MS = 15000;	/* summary and devices */

	const ACTION_LABEL = {
		pass: 'Let through',
		log: 'Watched (logged)',
		block: 'Blocked',
	};
	const ROLE_LABEL = {
		block: 'blocks',
		log: 'watches',
		unused: 'not used by this group',
		exception: 'exception (lets it through)',
		allow: 'allowlist',
	};
	const REASON_LABEL = {
		list: 'a list names it',
		cname: 'it is an alias (CNAME) of a listed name',
		country: 'its address is in a blocked country',
		asn: 'its address belongs to a blocked network',
		'no-sni': 'the connection did not say which site it wants',
		'unresolved-ip': 'the address was never looked up',
		acl: 'this device may not use hushd',
		'rate-limit': 'too many lookups at once',
		canary: 'the browsers\' "use my DNS" check',
	};

	const state = {
		groups: [],
		lists: null,
		device: null,		/* the device whose page is open */
		live: [],
	};

	/* ------------------------------------------------------------ DOM */

	function el(tag, attrs, children) {
		const node = document.createElement(tag);
		for (const [key, value] of Object.entries(attrs || {})) {
			if (key === 'text')
				node.textContent = value;
			else if (key === 'className')
				node.className = value;
			else if (key.startsWith('on'))
				node.addEventListener(key.slice(2), value);
			else if (value !== null && value !== undefined && value !== false)
				node.setAttribute(key, value === true ? '' : String(value));
		}
		for (const child of [].concat(children || [])) {
			if (child === null || child === undefined)
				continue;
			node.append(typeof child === 'string' ? document.createTextNode(child) : child);
		}
		return node;
	}

	function svg(tag, attrs) {
		const node = document.createElementNS(SVG, tag);
		for (const [key, value] of Object.entries(attrs || {}))
			node.setAttribute(key, String(value));
		return node;
	}

	function clear(node) {
		while (node.firstChild)
			node.removeChild(node.firstChild);
		return node;
	}

	function section(id) {
		return document.getElementById(id);
	}

	function number(n) {
		return Number(n || 0).toLocaleString();
	}

	function ago(seconds) {
		if (seconds < 60)
			return seconds + ' s ago';
		if (seconds < 3600)
			return Math.floor(seconds / 60) + ' min ago';
		if (seconds < 86400)
			return Math.floor(seconds / 3600) + ' h ago';
		return Math.floor(seconds / 86400) + ' days ago';
	}

	function clock(epoch) {
		return new Date(epoch * 1000).toLocaleTimeString([], {
			hour: '2-digit', minute: '2-digit',
		});
	}

	function notice(text, isError) {
		const box = section('notice');
		box.textContent = text;
		box.className = isError ? 'notice error' : 'notice';
	}

	/* ------------------------------------------------------------ API */

	async function getJSON(path) {
		const response = await fetch(path, {
			credentials: 'same-origin',
			headers: { Accept: 'application/json' },
		});
		if (response.status === 401) {
			window.location.assign('/login');
			throw new Error('logged out');
		}
		const data = await response.json();
		if (!response.ok)
			throw new Error(data.error || response.statusText);
		return data;
	}

	async function post(path, body) {
		const response = await fetch(path, {
			method: 'POST',
			credentials: 'same-origin',
			headers: {
				'Content-Type': 'application/json',
				'X-CSRF-Token': csrf,
			},
			body: JSON.stringify(body || {}),
		});
		let data = {};
		try {
			data = await response.json();
		} catch (e) {
			data = {};
		}
		if (!response.ok)
			throw new Error(data.error || response.statusText);
		return data;
	}

	/* Runs an action from a button: disables it meanwhile, says how it went. */
	async function act(button, path, body, success) {
		button.disabled = true;
		try {
			await post(path, body);
			notice(success, false);
			await Promise.all([refreshSummary(), refreshLists()]);
		} catch (e) {
			notice('That did not work: ' + e.message, true);
		} finally {
			button.disabled = false;
		}
	}

	/* ------------------------------------------------------------ chart */

	function drawChart(hours) {
		const box = clear(section('chart'));
		const width = 720, height = 200, left = 44, bottom = 22, top = 8;
		const plotH = height - bottom - top;
		const slot = (width - left) / hours.length;
		const max = Math.max(1, ...hours.map((h) => h.passed + h.logged + h.blocked));
		const chart = svg('svg', {
			viewBox: '0 0 ' + width + ' ' + height,
			role: 'img',
			class: 'chart',
			'aria-label': 'Lookups per hour over the last 24 hours',
		});
		/* Three horizontal guides with their values. */
		for (let i = 0; i <= 2; i++) {
			const y = top + plotH - (plotH * i) / 2;
			chart.append(svg('line', { x1: left, x2: width, y1: y, y2: y, class: 'guide' }));
			const label = svg('text', { x: left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' });
			label.textContent = number(Math.round((max * i) / 2));
			chart.append(label);
		}
		hours.forEach((h, i) => {
			const x = left + i * slot + 1;
			let y = top + plotH;
			for (const kind of ['passed', 'logged', 'blocked']) {
				const barH = (plotH * h[kind]) / max;
				if (barH <= 0)
					continue;
				y -= barH;
				const bar = svg('rect', {
					x: x, y: y, width: Math.max(1, slot - 2), height: barH, class: 'bar ' + kind,
				});
				const tip = svg('title');
				tip.textContent = clock(h.start) + ': ' + number(h.passed) +
				    ' let through, ' + number(h.logged) + ' watched, ' +
				    number(h.blocked) + ' blocked';
				bar.append(tip);
				chart.append(bar);
			}
			if (i % 4 === 0) {
				const label = svg('text', { x: x, y: height - 6, class: 'axis' });
				label.textContent = clock(h.start);
				chart.append(label);
			}
		});
		box.append(el('h3', { text: 'The last 24 hours' }), chart,
		    el('p', { className: 'legend' }, [
			el('span', { className: 'key passed', text: 'Let through' }),
			el('span', { className: 'key logged', text: 'Watched (logged)' }),
			el('span', { className: 'key blocked', text: 'Blocked' }),
		    ]));
	}

	/* ------------------------------------------------------------ pause */

	function drawPause(summary) {
		const box = clear(section('pause'));
		const paused = summary.paused || { all_until: 0, groups: {} };
		const status = el('p', { className: 'pause-status', id: 'pause-status' });
		if (paused.all_until > 0) {
			status.textContent = 'Blocking is paused for everyone until ' +
			    clock(paused.all_until) + '.';
			status.classList.add('paused');
		} else if (Object.keys(paused.groups).length > 0) {
			status.textContent = 'Blocking is paused for ' +
			    Object.entries(paused.groups).map(([g, until]) =>
				g + ' until ' + clock(until)).join(', ') + '.';
			status.classList.add('paused');
		} else {
			status.textContent = 'Blocking is on.';
		}
		const group = el('select', { id: 'pause-group', 'aria-label': 'Who' }, [
			el('option', { value: '', text: 'everyone' }),
		].concat(summary.groups.map((g) => el('option', { value: g, text: 'group ' + g }))));
		const pause = (minutes) => function () {
			const body = { minutes: minutes };
			if (group.value)
				body.group = group.value;
			act(this, '/api/pause', body, 'Let through for ' + minutes +
			    ' minutes (' + (group.value ? 'group ' + group.value : 'everyone') + ').');
		};
		box.append(status, el('div', { className: 'actions' }, [
			el('label', {}, ['Pause blocking for ', group]),
			el('button', { id: 'pause-15', type: 'button', onclick: pause(15),
			    text: 'Let through for 15 minutes' }),
			el('button', { id: 'pause-60', type: 'button', onclick: pause(60),
			    text: 'Let through for 1 hour' }),
			el('button', { id: 'resume', type: 'button', className: 'primary',
			    onclick: function () { act(this, '/api/resume', {}, 'Blocking is back on.'); },
			    text: 'Block again now' }),
		]));
	}

	async function refreshSummary() {
		const summary = await getJSON('/api/summary');
		state.groups = summary.groups;
		section('queries').textContent = number(summary.queries);
		section('blocked').textContent = number(summary.blocked);
		section('logged').textContent = number(summary.logged);
		drawChart(summary.hours);
		drawPause(summary);
	}

	/* ------------------------------------------------------------ devices */

	function topCountries(countries, n) {
		return Object.entries(countries || {})
		    .sort((a, b) => b[1] - a[1])
		    .slice(0, n)
		    .map(([cc, count]) => cc + ' ' + count)
		    .join(', ');
	}

	async function refreshDevices() {
		const devices = await getJSON('/api/devices');
		devices.sort((a, b) => b.blocked - a.blocked || b.logged - a.logged ||
		    a.device.localeCompare(b.device));
		const table = section('device-table');
		const head = clear(table.tHead || table.createTHead());
		head.append(el('tr', {}, ['Device', 'Lookups', 'Blocked', 'Watched',
		    'Countries', 'Last seen'].map((t) => el('th', { text: t }))));
		const body = clear(table.tBodies[0] || table.createTBody());
		for (const d of devices) {
			const link = el('a', {
				href: '#device=' + encodeURIComponent(d.device),
				className: 'device-link',
				'data-device': d.device,
				text: d.device,
			});
			const who = [link];
			if (d.vendor)
				who.push(el('span', { className: 'vendor', text: d.vendor }));
			if (d.group && d.group !== 'default')
				who.push(el('span', { className: 'tag', text: d.group }));
			body.append(el('tr', { className: d.blocked ? 'has-blocked' : '' }, [
				el('td', { 'data-label': 'Device' }, who),
				el('td', { 'data-label': 'Lookups', text: number(d.count) }),
				el('td', { 'data-label': 'Blocked', className: 'blocked', text: number(d.blocked) }),
				el('td', { 'data-label': 'Watched', className: 'logged', text: number(d.logged) }),
				el('td', { 'data-label': 'Countries', text: topCountries(d.countries, 3) || '-' }),
				el('td', { 'data-label': 'Last seen', text: ago(d.last_seen_s) }),
			]));
		}
		if (devices.length === 0)
			body.append(el('tr', {}, el('td', { colspan: 6, text: 'No lookups in the last day yet.' })));
	}

	/* ------------------------------------------------------------ one device */

	function eventName(ev) {
		return ev.qname || ev.sni || ev.dns_name || ev.dst || '';
	}

	function eventRow(ev) {
		const when = ev.ts ? new Date(ev.ts).toLocaleTimeString() : '';
		const action = ev.action || '';
		return el('li', { className: 'event ' + action }, [
			el('span', { className: 'when', text: when }),
			el('span', { className: 'badge ' + action, text: ACTION_LABEL[action] || action }),
			el('span', { className: 'name', text: eventName(ev) }),
			el('span', { className: 'who', text: ev.device || ev.client || '' }),
			ev.list ? el('span', { className: 'list', text: 'list ' + ev.list }) : null,
		]);
	}

	function drawLive() {
		const box = section('live-list');
		if (box === null)
			return;
		const shown = state.live.filter((ev) => state.device === null ||
		    ev.device === state.device || ev.client === state.device);
		clear(box);
		for (const ev of shown.slice(0, 30))
			box.append(eventRow(ev));
		if (shown.length === 0)
			box.append(el('li', { className: 'empty', text: 'Nothing yet: new lookups show here as they happen.' }));
	}

	async function openDevice(name) {
		state.device = name;
		const box = clear(section('detail'));
		box.hidden = false;
		box.append(el('div', { className: 'detail-head' }, [
			el('h2', { id: 'detail-title', text: name }),
			el('a', { href: '#', className: 'close', text: 'Back to all devices' }),
		]));
		const recent = el('table', { id: 'recent', className: 'recent' });
		box.append(el('h3', { text: 'Happening now' }),
		    el('ul', { id: 'live-list', className: 'events', 'aria-live': 'polite' }),
		    el('h3', { text: 'Recent decisions' }), recent);
		drawLive();
		section('live').hidden = true;
		box.scrollIntoView({ block: 'start' });
		try {
			const decisions = await getJSON('/api/device?name=' + encodeURIComponent(name));
			recent.append(el('thead', {}, el('tr', {}, ['When', 'What', 'Name', 'Where'].map(
			    (t) => el('th', { text: t })))));
			const body = el('tbody');
			for (const d of decisions) {
				const where = [d.cc, d.asn ? 'AS' + d.asn : null].filter(Boolean).join(' ');
				body.append(el('tr', { className: d.action }, [
					el('td', { text: ago(d.ago_s) }),
					el('td', {}, el('span', { className: 'badge ' + d.action,
					    text: ACTION_LABEL[d.action] || d.action })),
					el('td', { className: 'name', text: d.name }),
					el('td', { text: where || '-' }),
				]));
			}
			if (decisions.length === 0)
				body.append(el('tr', {}, el('td', { colspan: 4, text: 'Nothing in the last day.' })));
			recent.append(body);
		} catch (e) {
			notice('Could not read this device: ' + e.message, true);
		}
	}

	function closeDevice() {
		state.device = null;
		clear(section('detail')).hidden = true;
		const live = section('live');
		live.hidden = false;
		clear(live).append(el('h2', { text: 'Happening now' }),
		    el('ul', { id: 'live-list', className: 'events', 'aria-live': 'polite' }));
		drawLive();
	}

	function route() {
		const m = /^#device=(.*)$/.exec(window.location.hash);
		if (m)
			openDevice(decodeURIComponent(m[1]));
		else
			closeDevice();
	}

	/* ------------------------------------------------------------ why? */

	function drawWhy() {
		const box = clear(section('why'));
		const name = el('input', { id: 'why-name', type: 'text', required: true,
		    placeholder: 'ads.example.com', autocomplete: 'off', spellcheck: 'false' });
		const client = el('input', { id: 'why-client', type: 'text',
		    placeholder: 'optional: 192.168.1.20 or a MAC', autocomplete: 'off' });
		const result = el('div', { id: 'why-result', 'aria-live': 'polite' });
		const form = el('form', { id: 'why-form', className: 'stack' }, [
			el('label', {}, ['Name ', name]),
			el('label', {}, ['Device ', client]),
			el('button', { type: 'submit', text: 'Explain' }),
		]);
		form.addEventListener('submit', async (e) => {
			e.preventDefault();
			let path = '/api/check?name=' + encodeURIComponent(name.value.trim());
			if (client.value.trim())
				path += '&client=' + encodeURIComponent(client.value.trim());
			clear(result);
			try {
				renderWhy(result, await getJSON(path));
			} catch (err) {
				result.append(el('p', { className: 'error', text: err.message }));
			}
		});
		box.append(el('h2', { text: 'Why is a name blocked (or not)?' }), form, result);
	}

	function renderWhy(box, v) {
		const verdict = ACTION_LABEL[v.action] || v.action;
		box.append(el('p', { className: 'verdict ' + v.action }, [
			el('b', { text: v.name }), ' ', el('span', { className: 'badge ' + v.action, text: verdict }),
		]));
		const facts = el('dl', { className: 'facts' });
		const fact = (term, value) => {
			if (value)
				facts.append(el('dt', { text: term }), el('dd', { text: value }));
		};
		fact('Device', v.device || v.client || 'any device');
		fact('Group', v.group);
		if (v.reason)
			fact('Why', REASON_LABEL[v.reason] || v.reason);
		else if (v.action === 'pass')
			fact('Why', 'no list of this group names it');
		fact('List', v.list);
		fact('Rule', v.rule);
		box.append(facts);
		const rules = v.rules || [];
		if (rules.length === 0) {
			box.append(el('p', { text: 'No rule of any list covers this name.' }));
			return;
		}
		box.append(el('table', { className: 'rules' }, [
			el('thead', {}, el('tr', {}, ['List', 'For this group', 'Rule', 'Where'].map(
			    (t) => el('th', { text: t })))),
			el('tbody', {}, rules.map((r) => el('tr', {}, [
				el('td', { text: r.list }),
				el('td', { text: ROLE_LABEL[r.role] || r.role }),
				el('td', { className: 'name', text: r.rule }),
				el('td', { className: 'file', text: r.file + ':' + r.line }),
			]))),
		]));
	}

	/* ------------------------------------------------------------ lists */

	async function refreshLists() {
		const data = await getJSON('/api/lists');
		state.lists = data;
		const box = clear(section('lists'));
		box.append(el('h2', { text: 'Lists' }));
		const groups = data.lists.length ? Object.keys(data.lists[0].groups) : [];
		const table = el('table', { id: 'list-table' }, [
			el('thead', {}, el('tr', {}, ['List', 'Names', 'Updated'].concat(
			    groups.map((g) => 'Group ' + g)).map((t) => el('th', { text: t })))),
		]);
		const body = el('tbody');
		for (const list of data.lists) {
			const cells = [
				el('td', { 'data-label': 'List' }, [list.name, list.url ?
				    el('span', { className: 'tag', text: 'downloaded' }) : null]),
				el('td', { 'data-label': 'Names', text: number(list.rules) }),
				el('td', { 'data-label': 'Updated', text: list.updated ?
				    new Date(list.updated * 1000).toLocaleString([], {
				    dateStyle: 'short', timeStyle: 'short' }) : '-' }),
			];
			for (const g of groups) {
				const mode = list.groups[g];
				if (mode === 'off') {
					cells.push(el('td', { 'data-label': 'Group ' + g, text: 'not used' }));
					continue;
				}
				const select = el('select', {
					'aria-label': list.name + ' for group ' + g,
					'data-list': list.name, 'data-group': g, className: 'list-mode',
				}, [
					el('option', { value: 'block', text: 'Blocked', selected: mode === 'block' }),
					el('option', { value: 'log', text: 'Watched (logged)', selected: mode === 'log' }),
				]);
				select.addEventListener('change', function () {
					act(this, '/api/list-mode', { group: g, list: list.name, mode: this.value },
					    list.name + ' is now ' + (this.value === 'block' ? 'blocked' : 'only watched') +
					    ' for group ' + g + '.');
				});
				cells.push(el('td', { 'data-label': 'Group ' + g }, select));
			}
			body.append(el('tr', {}, cells));
		}
		table.append(body);
		box.append(el('div', { className: 'scroll' }, table));

		const actions = el('div', { className: 'forms' });
		if (data.allowlist) {
			actions.append(nameForm('allow', 'Always let a name through',
			    'Add to the allowlist', null, (name) => ['/api/allow', { name: name },
				name + ' is now always let through.']));
		}
		const local = data.lists.filter((l) => !l.url).map((l) => l.name);
		if (local.length > 0) {
			const which = el('select', { id: 'block-list', 'aria-label': 'List' },
			    local.map((n) => el('option', { value: n, text: n })));
			actions.append(nameForm('block', 'Block a name', 'Add to the list', which,
			    (name) => ['/api/block', { name: name, list: which.value },
				name + ' is now in ' + which.value + '.']));
		}
		if (data.lists.some((l) => l.url)) {
			actions.append(el('div', { className: 'update' }, el('button', {
				id: 'update', type: 'button', text: 'Download list updates now',
				onclick: function () {
					act(this, '/api/update', {}, 'Downloading list updates; the lists switch over when they arrive.');
				},
			})));
		}
		box.append(actions);
	}

	function nameForm(id, title, label, extra, request) {
		const input = el('input', { id: id + '-name', type: 'text', required: true,
		    placeholder: 'name.example.com', autocomplete: 'off', spellcheck: 'false' });
		const button = el('button', { id: id + '-submit', type: 'submit', text: label });
		const form = el('form', { id: id + '-form', className: 'stack' }, [
			el('h3', { text: title }), el('label', {}, ['Name ', input]),
			extra ? el('label', {}, ['List ', extra]) : null, button,
		]);
		form.addEventListener('submit', async (e) => {
			e.preventDefault();
			const [path, body, success] = request(input.value.trim());
			await act(button, path, body, success);
			input.value = '';
		});
		return form;
	}

	/* ------------------------------------------------------------ live events */

	function startEvents() {
		const source = new EventSource('/api/events', { withCredentials: true });
		source.addEventListener('message', (message) => {
			let ev;
			try {
				ev = JSON.parse(message.data);
			} catch (e) {
				return;
			}
			if (ev.event === 'admin')
				return;
			state.live.unshift(ev);
			state.live.length = Math.min(state.live.length, LIVE_KEEP);
			drawLive();
		});
	}

	/* ------------------------------------------------------------ start */

	async function refresh() {
		try {
			await Promise.all([refreshSummary(), refreshDevices()]);
		} catch (e) {
			notice('Could not reach hushd: ' + e.message, true);
		}
	}

	function start() {
		document.body.classList.add('js');
		const main = document.querySelector('main');
		main.prepend(el('p', { id: 'notice', className: 'notice', role: 'status', 'aria-live': 'polite' }));
		drawWhy();
		window.addEventListener('hashchange', route);
		route();
		startEvents();
		Promise.all([refresh(), refreshLists().catch((e) =>
		    notice('Could not read the lists: ' + e.message, true))]).then(() => {
			document.body.setAttribute('data-ready', 'yes');
		});
		window.setInterval(refresh, REFRESH_MS);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
}());
