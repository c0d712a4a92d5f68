/**
 * Tracing configured by the standard OpenTelemetry variables. Off unless
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set; off as well with
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. The exporter (OTLP over HTTP, JSON
 * encoding) reads the endpoint, OTEL_EXPORTER_OTLP_HEADERS, timeouts and compression itself;
 * the batch processor reads OTEL_BSP_*; the resource takes OTEL_SERVICE_NAME (default
 * `trellis`) and OTEL_RESOURCE_ATTRIBUTES.
 */
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkTrace from '@opentelemetry/sdk-trace';
import { lazyModule } from '../lazy-module.ts';
import { RunTracer } from './run-tracer.ts';

// The exporter and its dependencies (protobuf/JSON transformers, metrics and logs SDK types) are
// loaded only when tracing is configured: most processes never export a span.
const otlpHttp = lazyModule<typeof OtlpHttp>('@opentelemetry/exporter-trace-otlp-http');
const resources = lazyModule<typeof Resources>('@opentelemetry/resources');
const sdkTrace = lazyModule<typeof SdkTrace>('@opentelemetry/sdk-trace');
/** The `service.name` resource attribute (`ATTR_SERVICE_NAME` of the semantic conventions). */
const ATTR_SERVICE_NAME = 'service.name';

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/** A run tracer exporting over OTLP/HTTP, or undefined when tracing is not configured. */
export function runTracerFromEnv(env: NodeJS.ProcessEnv = process.env): RunTracer | undefined {
  if (!tracingEnabled(env)) return undefined;
  const { detectResources, envDetector, resourceFromAttributes } = resources();
  const { BatchSpanProcessor } = sdkTrace();
  const { OTLPTraceExporter } = otlpHttp();
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || 'trellis' }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  return new RunTracer({ spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })], resource });
}
