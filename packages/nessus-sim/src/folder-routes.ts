import { isRecord, NessusHttpError, sendEmpty, sendJson } from './http-replies.js';
import type { Router } from './router.js';
import type { Folder, SimulatorState } from './simulator-state.js';
import { TRASH_FOLDER_ID } from './simulator-state.js';

export const FOLDER_NOT_FOUND = 'Folder does not exist';

function folderName(body: unknown): string {
  const name = isRecord(body) ? body['name'] : undefined;
  if (typeof name !== 'string' || name.trim().length === 0) throw new NessusHttpError(400, "Missing 'name' field");
  return name.trim();
}

function findFolder(state: SimulatorState, idText: string | undefined): Folder {
  const folder = state.folders.find((candidate) => String(candidate.id) === idText);
  if (!folder) throw new NessusHttpError(404, FOLDER_NOT_FOUND);
  return folder;
}

/** `/folders` (B.3.11): stock Trash (2) and My Scans (3) plus custom folders. */
export function registerFolderRoutes(router: Router, state: SimulatorState): void {
  const assertUnique = (name: string, exceptId?: number): void => {
    if (state.folders.some((folder) => folder.name === name && folder.id !== exceptId)) {
      throw new NessusHttpError(400, 'A folder with the same name already exists');
    }
  };

  router.add({
    method: 'GET',
    path: '/folders',
    auth: true,
    licenceGated: false,
    handler: ({ res }) => sendJson(res, 200, { folders: state.folders }),
  });

  router.add({
    method: 'POST',
    path: '/folders',
    auth: true,
    licenceGated: false,
    handler: ({ res, body }) => {
      const name = folderName(body);
      assertUnique(name);
      const id = state.allocateFolderId();
      state.folders.push({ unread_count: null, custom: 1, default_tag: 0, type: 'custom', name, id });
      sendJson(res, 200, { id });
    },
  });

  router.add({
    method: 'PUT',
    path: '/folders/:id',
    auth: true,
    licenceGated: false,
    handler: ({ res, params, body }) => {
      const folder = findFolder(state, params['id']);
      if (folder.type !== 'custom') throw new NessusHttpError(403, 'System folders cannot be renamed');
      const name = folderName(body);
      assertUnique(name, folder.id);
      folder.name = name;
      sendEmpty(res);
    },
  });

  router.add({
    method: 'DELETE',
    path: '/folders/:id',
    auth: true,
    licenceGated: false,
    handler: ({ res, params }) => {
      const folder = findFolder(state, params['id']);
      if (folder.type !== 'custom') throw new NessusHttpError(403, 'System folders cannot be deleted');
      state.folders = state.folders.filter((candidate) => candidate.id !== folder.id);
      for (const scan of state.scans.values()) {
        if (scan.folderId === folder.id) scan.folderId = TRASH_FOLDER_ID;
      }
      sendEmpty(res);
    },
  });
}
