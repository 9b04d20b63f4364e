import { zodIssuesToError } from '@nessus-mcp/core';
import { cleanUntrustedText } from '@nessus-mcp/schema';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { taskIdParam } from '../schemas/tool-inputs.js';
import type { GatewayServices } from '../services/gateway-services.js';

const taskParams = z.object({ task_id: taskIdParam });

/**
 * The HTML report, apart from the REST mirror because people open it in a browser: its auth
 * hook also takes HTTP Basic with the token as password, like Bull Board and Swagger UI, and
 * that must not widen the JSON routes.
 */
export const reportPlugin: FastifyPluginAsync<{ services: GatewayServices }> = async (plain, { services }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler<z.ZodType>(({ schema }) => (data: unknown) => {
    const result = schema.safeParse(data);
    return result.success ? { value: result.data } : { error: zodIssuesToError(result.error.issues) };
  });
  app.addHook('onRequest', app.requireAuth({ allowBasic: true }));

  app.get(
    '/tasks/:task_id/report.html',
    {
      config: { scope: 'nessus:read' },
      schema: {
        tags: ['tasks'],
        summary: 'Readable report (self-contained HTML: severity chart, authentication, top risks, fix-first list, hosts); browsers may use Basic auth',
        params: taskParams,
      },
    },
    async (request, reply) => {
      const html = cleanUntrustedText(await services.renderTaskReport(request.params.task_id));
      // Scanner text is escaped and cleaned of invisible characters; the policy also forbids scripts and remote loads should any slip through.
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")
        .header('x-content-type-options', 'nosniff')
        .send(html);
    },
  );
};
