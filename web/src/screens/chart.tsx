import type { GrowthWeek } from "../client";
import { longDate } from "../time";

interface MeasureText {
  key: "regulation" | "needs" | "closeness";
  label: string;
}

const W = 600;
const H = 260;
const PAD = { left: 34, right: 14, top: 14, bottom: 40 };
// Lines differ by dash as well as colour, so they stay apart for every eye and in print.
const DASH = { regulation: "", needs: "8 5", closeness: "2 5" } as const;

/** The weekly trajectory as lines on a 1-7 scale, with the same numbers as a table. */
export function WeeklyChart({ weeks, measures }: { weeks: GrowthWeek[]; measures: readonly MeasureText[] }) {
  const x = (i: number) =>
    weeks.length === 1 ? (PAD.left + W - PAD.right) / 2 : PAD.left + (i * (W - PAD.left - PAD.right)) / (weeks.length - 1);
  const y = (v: number) => PAD.top + ((7 - v) * (H - PAD.top - PAD.bottom)) / 6;
  const last = weeks[weeks.length - 1];
  const summary = last
    ? `${weeks.length} ${weeks.length === 1 ? "week" : "weeks"}. The latest, from ${longDate(last.week)}: ` +
      measures.map((m) => `${m.label.toLowerCase()} ${last[m.key].toFixed(1)}`).join(", ") +
      ", out of 7."
    : "";
  return (
    <figure class="chart" data-testid="growth-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="chart-title chart-desc">
        <title id="chart-title">My weekly averages</title>
        <desc id="chart-desc">{summary}</desc>
        {[1, 2, 3, 4, 5, 6, 7].map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} class="grid" />
            <text x={PAD.left - 10} y={y(v) + 5} text-anchor="end" class="axis">
              {v}
            </text>
          </g>
        ))}
        {weeks.map((w, i) => (
          <text key={w.week} x={x(i)} y={H - 14} text-anchor="middle" class="axis">
            {w.week.slice(5).replace("-", "/")}
          </text>
        ))}
        {measures.map((m) => (
          <g key={m.key} class={`series series-${m.key}`}>
            <polyline
              fill="none"
              stroke-width="3"
              stroke-dasharray={DASH[m.key]}
              points={weeks.map((w, i) => `${x(i)},${y(w[m.key])}`).join(" ")}
            />
            {weeks.map((w, i) => (
              <circle key={w.week} cx={x(i)} cy={y(w[m.key])} r="4.5" />
            ))}
          </g>
        ))}
      </svg>
      <figcaption>
        <ul class="legend" aria-hidden="true">
          {measures.map((m) => (
            <li key={m.key}>
              <span class={`swatch swatch-${m.key}`} />
              {m.label}
            </li>
          ))}
        </ul>
        <details>
          <summary>The numbers, week by week</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">Week of</th>
                {measures.map((m) => (
                  <th scope="col" key={m.key}>
                    {m.label}
                  </th>
                ))}
                <th scope="col">Entries</th>
              </tr>
            </thead>
            <tbody>
              {weeks.map((w) => (
                <tr key={w.week}>
                  <th scope="row">{longDate(w.week)}</th>
                  {measures.map((m) => (
                    <td key={m.key}>{w[m.key].toFixed(1)}</td>
                  ))}
                  <td>{w.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}
