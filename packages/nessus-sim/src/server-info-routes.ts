import { authenticate, INVALID_CREDENTIALS, sameSecret, sessionTokenOf } from './auth.js';
import { isRecord, NessusHttpError, sendEmpty, sendJson } from './http-replies.js';
import type { Router } from './router.js';
import { SCAN_TEMPLATES } from './scan-templates.js';
import type { SimulatorState } from './simulator-state.js';

const SERVER_VERSION = '10.7.2';
const PLUGIN_SET = '202404150312';

/** `/server/*`, `/session`, `/editor/*`, `/scanners`, `/policies`, `/file/upload`. */
export function registerServerInfoRoutes(router: Router, state: SimulatorState): void {
  const bootedAt = Math.floor(state.clock() / 1000);

  // B.3.1: reachable without auth, the health probe clients use.
  router.add({
    method: 'GET',
    path: '/server/status',
    auth: false,
    licenceGated: false,
    handler: ({ res }) =>
      sendJson(res, 200, {
        code: 200,
        status: 'ready',
        progress: null,
        pluginSet: true,
        pluginData: true,
        initLevel: 3,
        must_destroy_session: false,
        detailed_status: {
          login_status: 'allow',
          feed_status: { progress: 100, status: 'ready' },
          db_status: { progress: 100, status: 'ready' },
          engine_status: { progress: 100, status: 'ready' },
        },
      }),
  });

  // B.3.2: the licence tells clients ahead of time whether scan control over the API will work.
  router.add({
    method: 'GET',
    path: '/server/properties',
    auth: false,
    licenceGated: false,
    handler: ({ res }) => {
      const restricted = state.faults.licence_412 !== null;
      const features = {
        api: true,
        scan_api: !restricted,
        policies: true,
        report: true,
        users: !restricted,
        vpr: true,
        folders: true,
        local_scanner: true,
        plugin_rules: true,
        cluster: false,
        offline: false,
        logs: true,
        smtp: true,
        remote_link: !restricted,
      };
      sendJson(res, 200, {
        server_version: SERVER_VERSION,
        server_build: '20040',
        nessus_type: restricted ? 'Nessus Essentials' : 'Nessus Manager',
        nessus_ui_version: SERVER_VERSION,
        nessus_ui_build: '204',
        platform: 'LINUX',
        plugin_set: PLUGIN_SET,
        loaded_plugin_set: PLUGIN_SET,
        server_uuid: state.serverUuid,
        idle_timeout: Math.round((state.faults.session_ttl_s ?? 0) / 60),
        scanner_boottime: bootedAt,
        used_ip_count: 0,
        users_count: 1,
        license: {
          type: restricted ? 'home' : 'manager',
          name: restricted ? 'Nessus Essentials' : 'Nessus Manager',
          restricted,
          ips: restricted ? 16 : 4096,
          agents: restricted ? 0 : 1000,
          scanners: restricted ? 0 : 100,
          expiration_date: bootedAt + 365 * 86400,
          mode: 1,
          features,
        },
        features,
        capabilities: { multi_scanner: !restricted, multi_user: 'full', report_email_config: false },
        update: { href: null, new_version: 0, restart: 0 },
        restart_pending: { reason: null, type: null },
        template_version: '405',
        notifications: [],
      });
    },
  });

  router.add({
    method: 'POST',
    path: '/session',
    auth: false,
    licenceGated: false,
    handler: ({ res, body }) => {
      const username = isRecord(body) ? body['username'] : undefined;
      const password = isRecord(body) ? body['password'] : undefined;
      if (typeof username !== 'string' || typeof password !== 'string') {
        throw new NessusHttpError(400, 'Missing username or password');
      }
      // The session limit's text is documented (Nessus 6 /api docs, session.rb); the lockout's
      // status and text are this simulator's guess: Nessus locks an account after failed logins
      // but no capture of the answer is public.
      if (state.faults.session_refusal === 'too_many_users') throw new NessusHttpError(500, 'Too many users are connected');
      if (state.faults.session_refusal === 'locked') throw new NessusHttpError(403, 'This account has been locked due to too many failed login attempts');
      if (!sameSecret(username, state.credentials.username) || !sameSecret(password, state.credentials.password)) {
        throw new NessusHttpError(401, INVALID_CREDENTIALS);
      }
      sendJson(res, 200, { token: state.sessions.create(username) });
    },
  });

  router.add({
    method: 'GET',
    path: '/session',
    auth: true,
    licenceGated: false,
    handler: ({ res, username }) =>
      sendJson(res, 200, {
        id: 1,
        username,
        email: null,
        name: username,
        type: 'local',
        permissions: 128,
        last_login: bootedAt,
        container_id: 0,
        groups: null,
        lockout: 0,
      }),
  });

  router.add({
    method: 'DELETE',
    path: '/session',
    auth: false,
    licenceGated: false,
    handler: ({ req, res }) => {
      const verdict = authenticate(req.headers, state.credentials, state.sessions);
      if (!verdict.ok) throw new NessusHttpError(401, verdict.message);
      const token = sessionTokenOf(req.headers);
      if (token !== undefined) state.sessions.delete(token);
      sendEmpty(res);
    },
  });

  for (const kind of ['scan', 'policy']) {
    router.add({
      method: 'GET',
      path: `/editor/${kind}/templates`,
      auth: true,
      licenceGated: false,
      handler: ({ res }) => sendJson(res, 200, { templates: SCAN_TEMPLATES }),
    });
    router.add({
      method: 'GET',
      path: `/editor/${kind}/templates/:uuid`,
      auth: true,
      licenceGated: false,
      handler: ({ res, params }) => {
        const template = SCAN_TEMPLATES.find((candidate) => candidate.uuid === params['uuid']);
        if (!template) throw new NessusHttpError(404, 'Template not found');
        sendJson(res, 200, { ...template, settings: {}, credentials: {}, compliance: {}, plugins: {} });
      },
    });
  }

  router.add({
    method: 'GET',
    path: '/scanners',
    auth: true,
    licenceGated: false,
    handler: ({ res }) =>
      sendJson(res, 200, {
        scanners: [
          {
            id: 1,
            uuid: '00000000-0000-0000-0000-00000000000000000000000000001',
            name: 'Local Scanner',
            type: 'local',
            status: 'on',
            scan_count: state.activeRunCount(),
            engine_version: SERVER_VERSION,
            platform: 'LINUX',
            loaded_plugin_set: PLUGIN_SET,
            registration_code: null,
            owner: 'system',
            owner_id: 1,
            owner_name: 'system',
            shared: 1,
            user_permissions: 128,
            linked: 1,
            pool: false,
            timestamp: bootedAt,
            creation_date: bootedAt,
            last_modification_date: bootedAt,
          },
        ],
      }),
  });

  // No policies exist in the simulator; real servers then send null, not [] (B.3.11).
  router.add({
    method: 'GET',
    path: '/policies',
    auth: true,
    licenceGated: false,
    handler: ({ res }) => sendJson(res, 200, { policies: null }),
  });

  // SSH private keys are uploaded first and referenced by the returned name (pyTenable files.py).
  // Only the file name is read back; the key bytes are dropped at once.
  router.add({
    method: 'POST',
    path: '/file/upload',
    auth: true,
    licenceGated: false,
    multipart: true,
    handler: ({ res, rawBody }) => {
      const head = rawBody.subarray(0, 4096).toString('latin1');
      const name = /filename="([^"]+)"/.exec(head)?.[1];
      if (name === undefined) throw new NessusHttpError(400, "Missing multipart field 'Filedata'");
      sendJson(res, 200, { fileuploaded: name.replace(/[^\w.-]/g, '_') });
    },
  });

  router.add({
    method: 'GET',
    path: '/scans/timezones',
    auth: true,
    licenceGated: false,
    handler: ({ res }) =>
      sendJson(res, 200, {
        timezones: ['UTC', 'Europe/London', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo'].map((name) => ({
          name,
          value: name,
        })),
      }),
  });

  router.add({
    method: 'GET',
    path: '/scans/:id/export/formats',
    auth: true,
    licenceGated: false,
    handler: ({ res }) =>
      sendJson(res, 200, {
        formats: {
          export: [{ name: 'Nessus', value: 'nessus' }],
          format: [],
          custom: [],
        },
        report_options: {},
      }),
  });
}
