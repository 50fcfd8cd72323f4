/** The bot scopes the code calls for; manifest.yml and manifest.oauth.yml list the same (a test checks). */
export const BOT_SCOPES = [
  'commands',
  'chat:write',
  'chat:write.public',
  'users:read',
  'usergroups:read',
] as const;
