/**
 * @module
 * Where a source page lands on the fax page: landscape sources are turned a quarter turn anticlockwise (their
 * top edge to the left, as printers do), then scaled uniformly in physical units to fit, and centred.
 */

export interface PlacementTarget {
  /** Device size in pixels. */
  readonly width: number;
  readonly height: number;
  /** Device resolution in dots per inch. */
  readonly xDpi: number;
  readonly yDpi: number;
}

export interface Placement {
  /** The source is turned 90° anticlockwise before placing. */
  readonly rotate: boolean;
  /** Device pixels per source inch, horizontally and vertically (after rotation). */
  readonly scaleX: number;
  readonly scaleY: number;
  /** The placed content's box in device pixels (fractional). */
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * @param widthIn source width in inches as it is displayed (before our rotation)
 * @param heightIn source height in inches
 * @param enlarge whether a source smaller than the page is scaled up (PDF pages are; raster images keep their
 *   physical size so a logo does not fill the page)
 */
export function placeOnPage(
  widthIn: number,
  heightIn: number,
  target: PlacementTarget,
  enlarge: boolean,
): Placement {
  const rotate = widthIn > heightIn;
  const w = rotate ? heightIn : widthIn;
  const h = rotate ? widthIn : heightIn;
  let s = Math.min(target.width / target.xDpi / w, target.height / target.yDpi / h);
  if (!enlarge) s = Math.min(1, s);
  const scaleX = s * target.xDpi;
  const scaleY = s * target.yDpi;
  const width = w * scaleX;
  const height = h * scaleY;
  return {
    rotate,
    scaleX,
    scaleY,
    left: (target.width - width) / 2,
    top: (target.height - height) / 2,
    width,
    height,
  };
}
