import type { RatePoint, Rates } from './console-state.js';

export interface ChartSeries {
  readonly field: keyof Rates;
  readonly label: string;
  readonly color: string;
}

/**
 * A line chart of some of the rates on a canvas: the last points from left to right, a y axis from 0 to a
 * rounded maximum, and a legend with each series' latest value.
 */
export class RateChart {
  private readonly context: CanvasRenderingContext2D;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly series: readonly ChartSeries[],
    private readonly unit: string,
    private readonly capacity = 120,
  ) {
    this.context = canvas.getContext('2d')!;
  }

  draw(points: readonly RatePoint[]): void {
    const { canvas, context } = this;
    // Drawn at the screen's resolution, so lines stay sharp on high-density displays.
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);

    const legendHeight = 18;
    const left = 48;
    const plot = { x: left, y: legendHeight + 6, width: width - left - 8, height: height - legendHeight - 20 };
    const max = niceCeiling(Math.max(1, ...points.flatMap((point) => this.series.map((series) => point.rates[series.field]))));

    context.font = '11px system-ui, sans-serif';
    context.strokeStyle = '#d0d7de';
    context.fillStyle = '#57606a';
    context.lineWidth = 1;
    for (const fraction of [0, 0.5, 1]) {
      const y = plot.y + plot.height * (1 - fraction);
      context.beginPath();
      context.moveTo(plot.x, y + 0.5);
      context.lineTo(plot.x + plot.width, y + 0.5);
      context.stroke();
      context.textAlign = 'right';
      context.textBaseline = 'middle';
      context.fillText(formatRate(max * fraction), plot.x - 6, y);
    }
    context.textAlign = 'left';
    context.textBaseline = 'alphabetic';
    context.fillText(`${this.unit} · last ${this.capacity} s`, plot.x, height - 4);

    const step = plot.width / Math.max(1, this.capacity - 1);
    const offset = this.capacity - points.length;
    let legendX = plot.x;
    for (const series of this.series) {
      context.strokeStyle = series.color;
      context.lineWidth = 1.5;
      context.beginPath();
      points.forEach((point, index) => {
        const x = plot.x + (offset + index) * step;
        const y = plot.y + plot.height * (1 - point.rates[series.field] / max);
        if (index === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
      context.stroke();
      const latest = points[points.length - 1]?.rates[series.field] ?? 0;
      const text = `${series.label} ${formatRate(latest)}`;
      context.fillStyle = series.color;
      context.fillRect(legendX, 5, 10, 10);
      context.fillStyle = '#24292f';
      context.textBaseline = 'middle';
      context.fillText(text, legendX + 14, 10);
      legendX += context.measureText(text).width + 30;
    }
  }
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= value) return factor * power;
  return 10 * power;
}

export function formatRate(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(1)}G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value >= 10 || value === 0 ? value.toFixed(0) : value.toFixed(1);
}
